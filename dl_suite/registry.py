"""One registry per family: config strings map to builders, with did-you-mean errors."""

import difflib


class UnknownNameError(KeyError):
    """A name was looked up that no entry of the registry has."""

    def __init__(self, family, name, available):
        self.family = family
        self.name = name
        self.available = sorted(available)
        close = difflib.get_close_matches(str(name), self.available, n=1, cutoff=0.5)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        message = (
            f"Unknown {family} '{name}'.{hint} "
            f"Available options are: {', '.join(self.available)}."
        )
        super().__init__(message)
        self.message = message

    def __str__(self):
        return self.message


class Registry:
    """A named mapping from config strings to objects (builders, classes, functions).

    Args:
        family: what the entries are, used in error messages ("model", "loss").
    """

    def __init__(self, family):
        self.family = family
        self._entries = {}
        self._aliases = {}

    def register(self, name, *, aliases=()):
        """Decorator that registers `obj` under `name` (and optional aliases)."""

        def decorator(obj):
            if name in self._entries:
                raise ValueError(f"{self.family} '{name}' is registered twice.")
            self._entries[name] = obj
            for alias in aliases:
                self._aliases[alias] = name
            return obj

        return decorator

    def canonical(self, name):
        """Returns the registry key for `name` or one of its aliases."""
        if name in self._entries:
            return name
        if name in self._aliases:
            return self._aliases[name]
        raise UnknownNameError(self.family, name, self._entries)

    def get(self, name):
        """Returns the entry for `name`; raises `UnknownNameError` with a did-you-mean."""
        return self._entries[self.canonical(name)]

    def names(self):
        """Sorted registry keys (aliases excluded)."""
        return sorted(self._entries)

    def aliases(self):
        """Mapping alias -> registry key."""
        return dict(self._aliases)

    def __contains__(self, name):
        return name in self._entries or name in self._aliases

    def __iter__(self):
        return iter(self.names())

    def __len__(self):
        return len(self._entries)
