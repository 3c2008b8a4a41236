"""Small files of a run: JSON state, saved Keras models, clean-up of superseded files."""

import contextlib
import json
import os
import shutil
import tempfile
import zipfile
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


def read_texts(folder, names):
    """{name: text} of the files `names` in `folder` that exist (UTF-8)."""
    folder = Path(folder)
    return {n: (folder / n).read_text(encoding="utf-8") for n in names if (folder / n).is_file()}


WEIGHTS_SUFFIX = ".weights.h5"


def is_weights_file(path):
    """True for a weights-only file (`.weights.h5` or legacy `.h5`), False for a `.keras` model."""
    name = Path(path).name
    return name.endswith(WEIGHTS_SUFFIX) or name.endswith(".h5")


def _fsync(path, directory=False):
    flags = os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0)
    try:
        fd = os.open(path, flags)
    except OSError:  # e.g. directories cannot be opened on some platforms
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def save_keras_model(model, path, weights_only=None):
    """Saves a model (`.keras`) or its weights (`.weights.h5`) atomically.

    The file is written under a temporary name in the same folder, flushed to disk (fsync) and
    renamed over `path`, so a kill at any moment leaves either the old or the new file.

    Args:
        model: the Keras model.
        path: target file; a name ending in `.weights.h5` saves the weights only.
        weights_only: force weights-only (None: decided by the file name).

    Returns:
        The path.
    """
    path = Path(path)
    if weights_only is None:
        weights_only = is_weights_file(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    try:
        if weights_only:
            model.save_weights(tmp, overwrite=True)
        else:
            model.save(tmp, overwrite=True)
        _fsync(tmp)
        os.replace(tmp, path)
        _fsync(path.parent, directory=True)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def load_keras_model(path, compile=False):
    """Loads a `.keras` model file, with dl-suite's layers, losses and metrics registered.

    The single `.keras` loader of dl-suite (prediction, resume, fine-tuning).

    Raises:
        DataError: the file is missing or is not a readable Keras model (names the file).
    """
    import keras

    import dl_suite.losses  # noqa: F401  (registers serializable losses)
    import dl_suite.metrics  # noqa: F401  (registers serializable metrics)
    import dl_suite.models  # noqa: F401  (registers custom layers)
    import dl_suite.optimizers  # noqa: F401  (registers schedules)

    path = Path(path)
    if not path.is_file():
        raise DataError(f"Model file '{path}' does not exist. Check the path or train first.")
    try:
        if not zipfile.is_zipfile(path):
            raise zipfile.BadZipFile("not a zip archive")
        return keras.saving.load_model(path, compile=compile)
    except (OSError, zipfile.BadZipFile) as exc:
        raise DataError(
            f"'{path}' is not a readable Keras model ({exc}). It may be cut short by a crash; "
            "use another checkpoint of the run (model_last.keras, resume/)."
        ) from exc


def load_model_weights(model, path):
    """Loads a `.weights.h5` file into a model of the same architecture."""
    model.load_weights(Path(path))
    return model


def keep_copy(path, folder):
    """Copies `path` into `folder` (made if needed) as `<stem>-<its modification time,
    YYYYmmdd-HHMMSS><suffix>` (`-2`, `-3`, ... if taken), before the caller replaces it.

    Returns:
        the copy's Path, or None when `path` does not exist.
    """
    import datetime

    path, folder = Path(path), Path(folder)
    if not path.is_file():
        return None
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.fromtimestamp(path.stat().st_mtime).strftime("%Y%m%d-%H%M%S")
    target, number = folder / f"{path.stem}-{stamp}{path.suffix}", 1
    while target.exists():
        number += 1
        target = folder / f"{path.stem}-{stamp}-{number}{path.suffix}"
    tmp = target.with_name(f".{target.name}.part")
    shutil.copy2(path, tmp)
    os.replace(tmp, target)
    return target


def remove_file(path):
    """Deletes a file of our own that a newer one replaced (missing is fine)."""
    Path(path).unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_folder(final):
    """Builds a result folder under a hidden temporary name and renames it to `final` when the
    block ends without error; on error the partial folder is removed. Nothing half-written
    ever has the final name.

    Yields:
        Path of the temporary folder to write into (an ordinary, non-private folder).
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".part", dir=final.parent))
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)  # mkdtemp makes it private
    try:
        yield tmp
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


@contextlib.contextmanager
def scratch_folder(copy_of=None):
    """A private temporary folder, removed with everything in it when the block ends (e.g. the
    outputs of a non-chief worker, which nobody reads).

    Args:
        copy_of: optional folder copied into the scratch folder (under its own name) first.

    Yields:
        Path of the scratch folder (or of the copy, when `copy_of` is given).
    """
    with tempfile.TemporaryDirectory(prefix="dl-suite-scratch-") as tmp:
        if copy_of is None:
            yield Path(tmp)
        else:
            copy = Path(tmp) / Path(copy_of).name
            shutil.copytree(copy_of, copy)
            yield copy
