"""Tables (CSV) and small JSON summaries, written atomically (temp file + rename)."""

import csv
import json
from pathlib import Path

from dl_suite.io.images import write_text


def write_csv(path, table, **kwargs):
    """Writes a pandas DataFrame as CSV (no index) atomically; returns the path."""
    return write_text(path, table.to_csv(index=False, **kwargs))


def write_json(path, data):
    """Writes a JSON file (indented, NaN as null) atomically; returns the path."""
    return write_text(path, json.dumps(_clean(data), indent=2) + "\n")


def read_csv_rows(path):
    """Rows of a CSV file as dicts, numbers as floats (int for whole `epoch`), blanks as None;
    None when the file does not exist (e.g. a run's history.csv before its first epoch)."""
    path = Path(path)
    if not path.is_file():
        return None
    with open(path, newline="", encoding="utf-8") as handle:
        return [{key: _number(value) for key, value in row.items()} for row in csv.DictReader(handle)]


def _number(text):
    if text in (None, ""):
        return None
    try:
        value = float(text)
    except ValueError:
        return text
    return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value


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
