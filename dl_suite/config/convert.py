"""A loaded config written in another dialect: canonical JSON, INI, or the flat legacy JSON.

Only keys that differ from the schema defaults are written (the defaults fill the rest when the
file is read back), so a round trip keeps the meaning. Keys that the source set but that have no
effect are kept as comments (INI) or listed (JSON cannot hold comments).
"""

import json
import os
from pathlib import Path

from dl_suite.config import dialects
from dl_suite.config import schema as schema_lib

TARGETS = ("canonical", "ini", "json")


def relative_path(path, folder):
    """`path` relative to `folder` with forward slashes (how configs are read back: against
    their own folder); absolute where no relative path exists (another drive)."""
    try:
        return Path(os.path.relpath(path, folder)).as_posix()
    except ValueError:
        return Path(path).as_posix()


def changed_values(cfg, relative_to=None):
    """section -> {key: value} of the keys whose value differs from the schema default.

    Args:
        relative_to: folder the written config will live in; path keys (resolved to absolute
            paths by the loader) are written relative to it, so the converted file can move
            with its data. None keeps them absolute.
    """
    defaults = schema_lib.defaults()
    paths = schema_lib.path_keys()
    out = {}
    for section in cfg:
        for key, value in cfg[section].items():
            if value != defaults.get(section, {}).get(key, object()):
                if relative_to is not None and (section, key) in paths and isinstance(value, str) \
                        and os.path.isabs(value):
                    value = relative_path(value, relative_to)
                out.setdefault(section, {})[key] = value
    return out


def to_canonical(cfg, relative_to=None):
    """Canonical JSON text (non-default keys)."""
    data = {"schema_version": schema_lib.SCHEMA_VERSION, **changed_values(cfg, relative_to)}
    return json.dumps(data, indent=2) + "\n"


def to_ini(cfg, relative_to=None):
    """INI text: one `[section]` per changed section, values as Python literals."""
    lines = [f"; converted by dl-suite from {cfg.source.name if cfg.source else 'a config'}"]
    for section, key, value, why in cfg.no_effect:
        lines.append(f"; [{section}] {key} = {value!r}: accepted for compatibility, has no effect ({why})")
    for section, items in changed_values(cfg, relative_to).items():
        lines.append("")
        lines.append(f"[{section}]")
        lines.extend(f"{key} = {value!r}" for key, value in items.items())
    return "\n".join(lines) + "\n"


def to_legacy_json(cfg, relative_to=None):
    """(flat legacy JSON text, [dotted keys that dialect cannot express])."""
    reverse = {target: name for name, target in dialects.LEGACY_JSON_KEYS.items()}
    data, lost = {}, []
    for section, items in changed_values(cfg, relative_to).items():
        for key, value in items.items():
            name = reverse.get((section, key))
            if name is None:
                lost.append(f"{section}.{key}")
                continue
            if name == "model_pools" and isinstance(value, int):
                value -= 1  # model_pools counts poolings, num_layers counts levels
            data[name] = value
    lost += [f"{s}.{k} (no effect)" for s, k, _, _ in cfg.no_effect]
    return json.dumps(data, indent=1) + "\n", lost


def convert(cfg, target, relative_to=None):
    """(text, notes) of `cfg` written in dialect `target` (one of TARGETS).

    Args:
        relative_to: folder the converted file will be in (paths are written relative to it);
            None = the source config's folder.

    Raises:
        ValueError: unknown target.
    """
    if relative_to is None:
        relative_to = cfg.base_dir
    if target == "canonical":
        notes = [f"{s}.{k} = {v!r}: no effect ({why})" for s, k, v, why in cfg.no_effect]
        return to_canonical(cfg, relative_to), notes
    if target == "ini":
        return to_ini(cfg, relative_to), []
    if target == "json":
        text, lost = to_legacy_json(cfg, relative_to)
        return text, [f"{key}: the legacy JSON dialect has no key for it; dropped" for key in lost]
    raise ValueError(f"Received `--to {target}`, expected one of {', '.join(TARGETS)}.")
