"""Config file -> dialect -> canonical values -> defaults -> validation -> frozen `Config`."""

import copy
import json
import logging
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from dl_suite.config import dialects
from dl_suite.config import schema as schema_lib
from dl_suite.config.literals import parse_override
from dl_suite.config.validation import (
    cooldown_problems,
    schema_problems,
    split_grid_problems,
    unknown_key_problems,
)
from dl_suite.errors import ConfigError

logger = logging.getLogger(__name__)

INI_SUFFIXES = (".config", ".ini", ".cfg", ".conf")


class Config(Mapping):
    """A validated, read-only config: `cfg["train"]["epochs"]`.

    Attributes:
        source: the file it was read from (or None).
        base_dir: folder relative paths were resolved against.
        warnings: notes for the user (known misspellings, ignored legacy keys).
        no_effect: (section, key, value, reason) of keys the file set that change nothing.
    """

    def __init__(self, values, source=None, base_dir=None, warnings=(), no_effect=()):
        self._values = {s: MappingProxyType(dict(v)) for s, v in values.items()}
        self.source = Path(source) if source else None
        self.base_dir = Path(base_dir) if base_dir else None
        self.warnings = list(warnings)
        self.no_effect = list(no_effect)

    def __getitem__(self, section):
        return self._values[section]

    def __iter__(self):
        return iter(self._values)

    def __len__(self):
        return len(self._values)

    def to_dict(self):
        """Plain nested dict with the schema version, ready for `json.dump`."""
        out = {"schema_version": schema_lib.SCHEMA_VERSION}
        out.update({s: copy.deepcopy(dict(v)) for s, v in self._values.items()})
        return out

    def to_json(self):
        return json.dumps(self.to_dict(), indent=2, sort_keys=False)

    def replace(self, section, **changes):
        """A copy with some keys of one section changed (no re-validation)."""
        values = {s: dict(v) for s, v in self._values.items()}
        values[section].update(changes)
        return Config(values, self.source, self.base_dir, self.warnings, self.no_effect)


def _read_raw(path):
    path = Path(path)
    if not path.is_file():
        raise ConfigError([f"Config file not found: '{path}'."])
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        text = path.read_text(encoding="latin-1")
    if path.suffix.lower() == ".json":
        return dialects.read_json(text, path)
    if path.suffix.lower() in INI_SUFFIXES:
        return dialects.read_ini(text, path)
    raise ConfigError(
        [f"'{path.name}': unknown config type '{path.suffix}'. Use .json or .config/.ini."]
    )


def _apply_overrides(raw, overrides):
    for item in overrides:
        if "=" not in item or "." not in item.split("=", 1)[0]:
            raw.problems.append(
                f"--set {item!r}: expected SECTION.KEY=VALUE, e.g. --set train.epochs=1."
            )
            continue
        dotted, text = item.split("=", 1)
        section, key = dotted.strip().split(".", 1)
        value = parse_override(text)
        if section == "model" and key in ("name", "model"):
            value = dialects.MODEL_ALIASES.get(value, value)
        raw.put(section.lower(), key.strip(), value, f"--set {dotted.strip()}")


def _resolve_paths(values, base_dir):
    for section, key in schema_lib.path_keys():
        value = values.get(section, {}).get(key)
        if isinstance(value, str) and value:
            path = Path(value).expanduser()
            if not path.is_absolute():
                path = (base_dir / path).resolve()
            values[section][key] = str(path)


def load_config(path, overrides=(), *, base_dir=None):
    """Reads, upgrades and validates a config file (JSON or INI, any dialect).

    Args:
        path: the config file.
        overrides: `"section.key=value"` strings applied on top (the CLI's `--set`).
        base_dir: folder for relative paths (default: the config file's folder).

    Returns:
        Config with every schema key present (defaults filled) and paths made absolute.

    Raises:
        ConfigError: listing every problem found, each with its dotted key.
    """
    path = Path(path)
    raw = _read_raw(path)
    _apply_overrides(raw, overrides)
    return build_config(raw, source=path, base_dir=base_dir or path.resolve().parent)


def config_from_dict(values, overrides=(), *, base_dir=".", source=None):
    """Validates an in-memory canonical dict (section -> key -> value) like a file."""
    raw = dialects.RawConfig("dict")
    for section, items in values.items():
        if section in ("schema_version", "$schema"):
            continue
        for key, value in items.items():
            raw.put(section, key, copy.deepcopy(value), f"{section}.{key}")
    _apply_overrides(raw, overrides)
    return build_config(raw, source=source, base_dir=Path(base_dir).resolve())


def build_config(raw, *, source=None, base_dir=Path(".")):
    """Turns a RawConfig into a validated Config (see `load_config`)."""
    dialects.canonicalise_names(raw)
    dialects.settle_keys(raw)
    problems = list(raw.problems)
    problems += unknown_key_problems(raw)
    known = schema_lib.section_properties()
    values = schema_lib.defaults()
    for section, items in raw.values.items():
        for key, value in items.items():
            if section in known and key in known[section]:
                values[section][key] = value
    problems += schema_problems(values, raw.origins)
    problems += split_grid_problems(values)
    problems += cooldown_problems(values)
    for warning in raw.warnings:  # also when refusing: ignored keys may explain an error
        logger.warning(warning)
    if problems:
        raise ConfigError(problems, source=source)
    dialects.fold_legacy_keys(values)
    _resolve_paths(values, Path(base_dir))
    return Config(values, source=source, base_dir=base_dir, warnings=raw.warnings,
                  no_effect=raw.no_effect)
