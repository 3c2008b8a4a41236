"""Exception types for mistakes a user can fix (the CLI prints them and exits with code 2)."""


class UserError(Exception):
    """An error caused by the user's input (config, files, arguments), not by a bug."""


class ConfigError(UserError):
    """The config file is invalid; `problems` lists every problem found, one string each."""

    def __init__(self, problems, source=None):
        self.problems = list(problems)
        self.source = source
        where = f" in {source}" if source else ""
        lines = [f"{len(self.problems)} problem(s){where}:"]
        lines += [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))


class DataError(UserError):
    """Input data is missing, unreadable, or inconsistent (names the file)."""
