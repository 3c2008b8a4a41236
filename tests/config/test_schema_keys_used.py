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


def _read_names(code):
    """Quoted words ("key", 'key'), keyword parameters or dataclass fields (`key=`,
    `key: int =`; builders and option classes take whole sections as **kwargs), and suffixes of
    key families read through an f-string such as `f"{name}_prob"`."""
    names = set(re.findall(r"""["']([A-Za-z_][A-Za-z0-9_]*)["']""", code))
    names |= set(re.findall(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*=[^=]", code))
    names |= set(re.findall(r"\b([A-Za-z_][A-Za-z0-9_]*): [\w\[\], |]+ =", code))
    suffixes = set(re.findall(r"""\}_([A-Za-z0-9]+)["']""", code))
    return names, suffixes


def _is_read(key, code):
    names, suffixes = _read_names(code) if isinstance(code, str) else code
    return key in names or ("_" in key and key.rsplit("_", 1)[-1] in suffixes)


def unread_keys():
    found = _read_names(_code())
    return sorted(
        f"{section}.{key}"
        for section, props in section_properties().items()
        for key in props
        if not _is_read(key, found)
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


def test_no_effect_schema_keys_say_so_and_warn_when_set(tmp_path):
    import json

    from dl_suite.config import load_config

    schema = section_properties()
    listed = [d for d in no_effect.NO_EFFECT if d.split(".")[0] in schema
              and d.split(".")[1] in schema[d.split(".")[0]]]
    assert {"train.create_backup", "tiledinfer.output_format", "model.loss_tips"} <= set(listed)
    for dotted in listed:
        section, key = dotted.split(".")
        assert schema[section][key]["description"].startswith("No effect"), dotted
    values = {"train": {"create_backup": True, "save_model_file": "best.h5",
                        "load_from_frozen": True},
              "dataset": {"resize_interpolation": "cv2.INTER_NEAREST"},
              "infer": {"merged_dir": "./merged"}, "generator": {"tips_factor": 2.0}}
    path = tmp_path / "a.json"
    path.write_text(json.dumps(values))
    warnings = " ".join(load_config(path).warnings)
    for section, keys in values.items():
        for key in keys:
            assert f"{section}.{key}" in warnings or f"[{section}] {key}" in warnings, (section, key)
