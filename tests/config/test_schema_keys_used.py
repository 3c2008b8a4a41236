"""Every schema key is read by some code, or documented as accepted with no effect."""

import re
from pathlib import Path

from dl_suite.config import no_effect
from dl_suite.config.schema import section_properties

PACKAGE = Path(__file__).resolve().parents[2] / "dl_suite"
# Files that list keys without acting on them.
NOT_READERS = {"config/schema.py", "config/no_effect.py", "config/validation.py"}


def _code():
    texts = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.relative_to(PACKAGE).as_posix() not in NOT_READERS:
            texts.append(path.read_text(encoding="utf-8"))
    return "\n".join(texts)


def _is_read(key, code):
    """A quoted key ("key", 'key'), a keyword parameter or dataclass field (`key=`, `key: int =`;
    builders and option classes take whole sections as **kwargs), or a key family read through an
    f-string such as `f"{name}_prob"`."""
    word = re.escape(key)
    pattern = rf"""["']{word}["']|\b{word}\s*=[^=]|\b{word}: [\w\[\], |]+ ="""
    if re.search(pattern, code):
        return True
    suffix = key.rsplit("_", 1)[-1]
    return "_" in key and re.search(rf"""\}}_{re.escape(suffix)}["']""", code) is not None


def unread_keys():
    code = _code()
    return sorted(
        f"{section}.{key}"
        for section, props in section_properties().items()
        for key in props
        if not _is_read(key, code)
    )


def test_every_schema_key_is_read_or_listed_as_no_effect():
    missing = [k for k in unread_keys() if k not in no_effect.NO_EFFECT]
    assert not missing, f"schema keys that no code reads and NO_EFFECT does not list: {missing}"


def test_no_effect_entries_name_schema_or_legacy_keys_with_a_reason():
    schema = section_properties()
    for dotted, why in no_effect.NO_EFFECT.items():
        section, key = dotted.split(".")
        assert why and len(why) > 10, dotted
        assert re.fullmatch(r"[a-z_]+", section) and re.fullmatch(r"[a-z_0-9]+", key), dotted
        if section in schema and key in schema[section]:
            continue
        assert no_effect.reason(section, key) == why


def test_detector_finds_unread_keys():
    assert not _is_read("no_such_key_anywhere", _code())
    assert _is_read("epochs", 'cfg["train"]["epochs"]')
    assert _is_read("base_filters", "def build(x, *, base_filters=16):")
