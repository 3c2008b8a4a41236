"""export(run, format): a finished run as a `.keras` file, a TensorFlow SavedModel, or a
bioimage.io model package (zip) that Fiji (deepImageJ), napari and ilastik users can run.

Nothing half-written is left behind: every format is written under a temporary name beside
the target and renamed when complete; an existing target is never replaced.
"""

import json
import logging
import uuid
from pathlib import Path

import numpy as np

from dl_suite.errors import UserError
from dl_suite.workflows import runs
from dl_suite.workflows.predict import load_run_config

logger = logging.getLogger(__name__)

FORMATS = ("keras", "savedmodel", "bioimageio")
_SUFFIX = {"keras": ".keras", "savedmodel": "_savedmodel", "bioimageio": ".bioimageio.zip"}
MAX_TEST_SIZE = 64  # side of the test tensor (pixels), kept small so package tests are quick


def default_output(run_dir, fmt):
    """`RUN/export/<run name><suffix>`."""
    return Path(run_dir) / "export" / f"{Path(run_dir).name}{_SUFFIX[fmt]}"


def finished_model(run_dir):
    """The run's single-output 2-D model, as trained (fixed input size).

    Raises:
        UserError: the run did not finish, holds no model, or its model has several outputs or
            is not a 2-D image model; the message names what is missing.
    """
    from dl_suite.io import is_weights_file, load_keras_model

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise UserError(f"Run folder not found: '{run_dir}'.")
    cfg = load_run_config(run_dir)
    status = runs.read_status(run_dir).get("status", "unknown")
    present = [n for n in runs.MODEL_FILES if (run_dir / n).is_file()]
    if status != "complete" or not present:
        missing = [] if status == "complete" else [f"a completed training (run.json says '{status}')"]
        missing += [] if present else [f"a model file ({', '.join(runs.MODEL_FILES)})"]
        raise UserError(
            f"Cannot export '{run_dir}': it has no finished model; missing: {'; '.join(missing)}. "
            "Finish the training (dl-suite train --resume RUN) or export another run."
        )
    path = runs.model_file(run_dir)
    model = (runs.model_from_weights(run_dir, cfg, path) if is_weights_file(path)
             else load_keras_model(path, compile=False))
    if len(model.outputs) != 1:
        names = ", ".join(model.output_names)
        raise UserError(
            f"Cannot export '{run_dir}': its model has {len(model.outputs)} outputs ({names}); "
            "an exported model must have exactly one output. Retrain without deep supervision / "
            "auxiliary outputs (model.deep_supervision = false)."
        )
    if len(model.inputs) != 1 or len(model.inputs[0].shape) != 4:
        raise UserError(
            f"Cannot export '{run_dir}': only 2-D image models (one input of shape (batch, y, x, "
            f"channel)) can be exported; this one takes {[tuple(i.shape) for i in model.inputs]}."
        )
    return cfg, model


def free_model(cfg, model):
    """(model with free height and width if possible, size multiple)."""
    from dl_suite.inference.free_size import free_spatial_model
    from dl_suite.models import input_multiple

    section = dict(cfg["model"])
    multiple = int(input_multiple(section.pop("name"), **section))
    free, reason = free_spatial_model(model, multiple)
    if reason:
        logger.info("The exported model keeps its training input size: %s.", reason)
    return free, multiple


def _check_target(out):
    out = Path(out)
    if out.exists():
        raise UserError(f"'{out}' already exists; dl-suite never replaces earlier exports. "
                        "Pass another --out or move it away.")
    return out


def temp_name(out):
    return out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.part")


def export(run, fmt, out=None, *, authors=None, test=False):
    """Exports a finished run.

    Args:
        run: the run folder.
        fmt: 'keras', 'savedmodel' or 'bioimageio'.
        out: target path (default `RUN/export/<run><suffix>`).
        authors: bioimage.io authors [{name, github_user?, ...}] (default: a placeholder).
        test: bioimageio only: also run bioimageio.core's test_model on the package.

    Returns:
        dict with `path` and, for bioimageio, `validation` (text) and `test` (text or None).
    """
    if fmt not in FORMATS:
        raise UserError(f"Received format '{fmt}', expected one of {', '.join(FORMATS)}.")
    cfg, model = finished_model(run)
    run_dir = Path(run)
    out = _check_target(out or default_output(run_dir, fmt))
    if fmt == "keras":
        _check_target(out.with_name(f"{out.stem}.provenance.json"))
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "bioimageio":
        from dl_suite.workflows.export_bioimageio import export_bioimageio

        return export_bioimageio(run_dir, cfg, model, out, authors=authors, test=test)
    free, _ = free_model(cfg, model)
    tmp = temp_name(out)
    from dl_suite.io.model_export import move_into_place

    if fmt == "keras":
        from dl_suite.io import save_keras_model, write_text

        save_keras_model(free, tmp.with_suffix(".keras"))
        # provenance beside the model: {file name: content} of the run's JSON files
        sidecar = out.with_name(f"{out.stem}.provenance.json")
        carried = {name: json.loads(text) for name, text in run_texts(run_dir).items()}
        write_text(sidecar, json.dumps(carried, indent=1))
        move_into_place(tmp.with_suffix(".keras"), out)
        return {"path": out, "provenance": sidecar}
    require_tensorflow("savedmodel")
    from dl_suite.io.model_export import write_savedmodel_folder

    write_savedmodel_folder(free, out, tmp, output_id="probability", extra_texts=run_texts(run_dir))
    return {"path": out}


def require_tensorflow(what):
    import keras

    if keras.backend.backend() != "tensorflow":
        raise UserError(f"Exporting {what} needs the TensorFlow backend (KERAS_BACKEND=tensorflow); "
                        f"received '{keras.backend.backend()}'.")


def run_texts(run_dir):
    """{name: text} of the run's config.json, run.json, provenance.json and threshold.json
    (those present): what an exported model carries along."""
    from dl_suite.evaluation.threshold import THRESHOLD_FILE
    from dl_suite.io.files import read_texts

    return read_texts(run_dir, (runs.CONFIG_FILE, runs.STATUS_FILE, runs.PROVENANCE_FILE, THRESHOLD_FILE))


def provenance_summary(texts):
    """A few provenance facts for the package's config section."""
    if runs.PROVENANCE_FILE not in texts:
        return {}
    prov = json.loads(texts[runs.PROVENANCE_FILE])
    return {"config_sha256": prov.get("config_sha256"), "versions": prov.get("versions"),
            "seeds": prov.get("seeds")}


def as_float(array):
    return np.asarray(array, dtype=np.float32)
