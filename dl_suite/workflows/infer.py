"""infer(cfg): segment new images with a trained run -> probability maps, masks, labels, overlays."""

import logging
from functools import partial
from pathlib import Path

from dl_suite.data.preprocess import preprocess_image
from dl_suite.errors import UserError
from dl_suite.io.pairs import list_images
from dl_suite.workflows import runs
from dl_suite.workflows.predict import load_model, load_run_config

logger = logging.getLogger(__name__)


def inference_options(cfg, run_cfg, run_dir, model):
    """InferenceOptions from the config's [tiledinfer], [segmentation] and [infer] sections.

    The preprocessing comes from the run's config; models built for a fixed input size are
    tiled at that size.
    """
    from dl_suite.inference.batch import options_from_config
    from dl_suite.models import input_multiple

    model_section = dict(run_cfg["model"])
    tiled = dict(cfg["tiledinfer"])
    shape = model.inputs[0].shape
    if shape[1] is not None:
        tiled["tile_size"] = (int(shape[1]), int(shape[2]))
    return options_from_config(
        tiled, cfg["segmentation"], cfg["infer"],
        num_channels=model_section["image_channels"],
        num_outputs=int(model.outputs[0].shape[-1]),
        input_multiple=input_multiple(model_section["name"], **model_section),
        run_threshold=runs.read_status(run_dir).get("threshold"),
        normalize=partial(preprocess_image, cfg=run_cfg),
    )


def infer(cfg, *, run=None, input_path=None, output_dir=None, overwrite=False):
    """Segments every image of `infer.images_dir` (or `input_path`) with a run's model.

    Returns:
        dict with counts `done`, `skipped`, `failed`, `failures` {name: reason}, `output_dir`.
    """
    from dl_suite.inference.batch import infer_paths
    from dl_suite.inference.predictors import keras_predictor

    source = input_path or cfg["infer"]["images_dir"]
    if not source:
        raise UserError("Nothing to segment: set infer.images_dir in the config or pass --input PATH.")
    output_dir = Path(output_dir or cfg["infer"]["output_dir"])
    run_dir = runs.resolve_run(cfg, run)
    weights = cfg["infer"]["weights"]
    model = load_model(weights if weights else runs.model_file(run_dir))
    run_cfg = load_run_config(run_dir)
    paths = list_images(source)
    options = inference_options(cfg, run_cfg, run_dir, model)
    logger.info("Segmenting %d image(s) with %s into %s", len(paths), run_dir.name, output_dir)
    report = infer_paths(paths, output_dir, keras_predictor(model), options, overwrite=overwrite)
    return {
        "done": len(report.written),
        "skipped": len(report.skipped),
        "failed": len(report.failed),
        "failures": {Path(p).name: msg for p, msg in report.failed},
        "output_dir": output_dir,
    }
