"""Model files for sharing: TensorFlow SavedModels with a dict-returning endpoint, zipped folders."""

import os
import shutil
import zipfile
from pathlib import Path

SERVE_ENDPOINT = "serve"


def save_savedmodel(model, folder, output_id="output"):
    """Writes `model` as a TensorFlow SavedModel whose endpoint `serve` returns {output_id: tensor}.

    bioimageio.core loads it with `keras.layers.TFSMLayer(call_endpoint="serve")` and requires a
    dict; plain `model.export()` would return a bare tensor. Height and width stay free when the
    model's are.

    Args:
        model: a single-input, single-output Keras model (TensorFlow backend).
        folder: the SavedModel folder to create (must not exist).
        output_id: the key of the output in the returned dict.
    """
    import keras
    import tensorflow as tf

    shape = list(model.inputs[0].shape)
    shape[0] = None
    archive = keras.export.ExportArchive()
    archive.track(model)

    def serve(x):
        return {output_id: model(x, training=False)}

    archive.add_endpoint(name=SERVE_ENDPOINT, fn=serve,
                         input_signature=[tf.TensorSpec(shape, tf.float32, name="input")])
    archive.write_out(str(folder), verbose=False)
    return Path(folder)


def write_savedmodel_folder(model, out, tmp, output_id="output", extra_texts=None):
    """`save_savedmodel` under the temporary name `tmp`, plus `assets.extra/<name>` text files,
    then renamed to `out`; nothing is left under either name on failure."""
    from dl_suite.io.images import write_text

    try:
        save_savedmodel(model, tmp, output_id=output_id)
        for name, text in (extra_texts or {}).items():
            write_text(Path(tmp) / "assets.extra" / name, text)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return move_into_place(tmp, out)


def zip_folder(folder, zip_path, remove=False):
    """Zips the contents of `folder` (paths relative to it) into `zip_path`; `remove` deletes
    the folder afterwards (our own temporary one)."""
    folder = Path(folder)
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(folder).as_posix())
    if remove:
        shutil.rmtree(folder)
    return Path(zip_path)


def move_into_place(tmp, final):
    """Renames a finished file or folder to `final` (which must not exist); removes `tmp` on failure."""
    tmp, final = Path(tmp), Path(final)
    try:
        if final.exists():
            raise FileExistsError(final)
        os.replace(tmp, final)
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp.exists():
            tmp.unlink()
    return final
