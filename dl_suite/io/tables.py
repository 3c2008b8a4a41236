"""Tables (CSV) and small JSON summaries, written atomically (temp file + rename)."""

import json
import os
from pathlib import Path

from dl_suite.io.imagej import temp_path_for


def write_csv(path, table, **kwargs):
    """Writes a pandas DataFrame as CSV (no index) atomically; returns the path."""
    path = Path(path)
    tmp = temp_path_for(path)
    try:
        table.to_csv(tmp, index=False, **kwargs)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def write_json(path, data):
    """Writes a JSON file (indented, NaN as null) atomically; returns the path."""
    path = Path(path)
    tmp = temp_path_for(path)
    text = json.dumps(_clean(data), indent=2)
    try:
        tmp.write_text(text + "\n", encoding="utf-8")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def _clean(value):
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, float) and value != value:
        return None
    if hasattr(value, "item"):  # numpy scalars
        return _clean(value.item())
    if isinstance(value, Path):
        return str(value)
    return value
