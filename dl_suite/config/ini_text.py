"""Line-level checks of INI text that `configparser` reports without enough context."""

import re

_SECTION = re.compile(r"^\[(?P<name>[^\]]+)\]")
_OPTION = re.compile(r"^(?P<key>[^=:\s][^=:]*?)\s*[=:]")


def duplicate_problems(text):
    """Sections or keys given twice, each named with both line numbers.

    The old INI tool read files with a strict `configparser` (keys compared case-insensitively),
    so it refused these files too; which of the two values was meant cannot be guessed.

    Args:
        text: the INI file's text.

    Returns:
        list of messages (empty when every section and key is unique).
    """
    problems = []
    sections = {}
    keys = {}
    section = None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line[0] in " \t" or line.lstrip()[0] in "#;":
            continue  # blank, continuation or comment line
        match = _SECTION.match(line.strip())
        if match:
            section = match.group("name").strip()
            if section in sections:
                problems.append(
                    f"Section [{section}] is given twice (lines {sections[section]} and {number}). "
                    "Merge the two sections into one."
                )
            sections.setdefault(section, number)
            continue
        match = _OPTION.match(line)
        if match and section is not None:
            key = match.group("key").strip().lower()
            first = keys.get((section, key))
            if first is not None:
                problems.append(
                    f"[{section}] {key} is given twice (lines {first} and {number}). "
                    "Keep the one you mean and delete or comment out (;) the other."
                )
            else:
                keys[(section, key)] = number
    return problems
