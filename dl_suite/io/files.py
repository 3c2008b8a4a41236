"""Small files of a run: JSON state, saved Keras models, clean-up of superseded files."""

import json
import os
from pathlib import Path

from dl_suite.errors import DataError


def read_json(path, default=None):
    """Reads a JSON file; `default` if it does not exist.

    Raises:
        DataError: the file exists but is not valid JSON (names the file).
    """
    path = Path(path)
    if not path.is_file():
        return default
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"'{path}' is not valid JSON ({exc}). Was it edited by hand or cut short?") from exc


def save_keras_model(model, path):
    """Saves a `.keras` file under a temporary name, then renames it: never half-written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    try:
        model.save(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def remove_file(path):
    """Deletes a file of our own that a newer one replaced (missing is fine)."""
    Path(path).unlink(missing_ok=True)
