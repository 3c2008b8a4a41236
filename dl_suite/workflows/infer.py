"""infer(cfg): segment new images with a trained run -> probability maps, masks, labels, overlays."""

import logging
from functools import partial
from pathlib import Path

from dl_suite.data.preprocess import preprocess_image
from dl_suite.errors import UserError
from dl_suite.io.pairs import list_images
from dl_suite.workflows import runs
from dl_suite.workflows.evaluate import run_threshold
from dl_suite.workflows.predict import load_model, load_run_config

logger = logging.getLogger(__name__)


def inference_options(cfg, run_cfg, run_dir, model):
    """Maps the config's [infer], [tiledinfer] and [segmentation] sections onto InferenceOptions."""
    from dl_suite.inference.batch import InferenceOptions
    from dl_suite.inference.postprocess import PostprocessOptions
    from dl_suite.models import input_multiple

    model_section = dict(run_cfg["model"])
    tiled = cfg["tiledinfer"]
    segmentation = cfg["segmentation"]
    shape = model.inputs[0].shape
    fixed = None if shape[1] is None else (int(shape[1]), int(shape[2]))
    tile_size = fixed or tiled["tile_size"]
    halo = tiled["halo"]
    if halo is None:
        halo = max(8, min(fixed) // 8) if fixed else 32
    overlap = tiled["overlapping"] if tiled["overlapping"] is not None else 32
    return InferenceOptions(
        num_channels=run_cfg["model"]["image_channels"],
        num_outputs=max(1, run_cfg["model"]["num_classes"]),
        tile_size=tile_size,
        halo=halo,
        overlap=overlap,
        batch_size=tiled["batch_size"],
        window=tiled["window"],
        tta=tiled["tta"],
        input_multiple=input_multiple(model_section["name"], **model_section),
        postprocess=PostprocessOptions.from_config(segmentation, threshold=cfg["infer"]["threshold"]),
        run_threshold=run_threshold(run_dir, None),
        overlay_style=segmentation["overlay_style"],
        normalize=partial(preprocess_image, cfg=run_cfg),
        pixel_size=segmentation["pixel_size"],
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
