"""infer(cfg): segment new images with a trained run -> probability maps, masks, labels, overlays."""

import logging
from dataclasses import replace
from functools import partial
from pathlib import Path

from dl_suite.data.preprocess import preprocess_image
from dl_suite.errors import UserError
from dl_suite.io.pairs import list_images
from dl_suite.workflows import runs
from dl_suite.workflows.postprocessing import run_postprocess
from dl_suite.workflows.predict import fixed_input_size, load_model, load_run_config, model_predictor

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
    multiple = input_multiple(model_section.pop("name"), **model_section)
    fixed = fixed_input_size(model)
    if fixed:
        # The model takes exactly this size: tiles of it, with halo and overlap that fit.
        side = min(fixed)
        tiled["tile_size"] = fixed
        tiled["max_halo"] = min(tiled["max_halo"], max(multiple, side // 4 // multiple * multiple))
        if tiled["halo"] is not None:
            tiled["halo"] = min(tiled["halo"], tiled["max_halo"])
        overlap = tiled["overlapping"] if tiled["overlapping"] is not None else 16
        tiled["overlapping"] = min(overlap, max(1, side // 8))
    return options_from_config(
        tiled, cfg["segmentation"], cfg["infer"],
        num_channels=model_section["image_channels"],
        num_outputs=int(model.outputs[0].shape[-1]),
        input_multiple=multiple,
        run_threshold=_stored_threshold(run_dir),
        normalize=partial(preprocess_image, cfg=run_cfg),
        axes=cfg["dataset"].get("axes") or run_cfg["dataset"].get("axes"),
    )


def _stored_threshold(run_dir):
    """The run's optimised threshold, or None when it has none."""
    from dl_suite.evaluation import load_threshold

    threshold, _ = load_threshold(run_dir, default=-1.0)
    return None if threshold < 0 else threshold


def with_run_postprocess(options, cfg, run_dir):
    """`options` with the post-processing that evaluation scores too (`run_postprocess`):
    the run's optimised threshold and minimum object size (a stored 0 included)."""
    segment = run_postprocess(cfg, run_dir)
    return replace(options, postprocess=segment.options, run_threshold=segment.run_threshold)


def infer(cfg, *, run=None, input_path=None, output_dir=None, overwrite=False):
    """Segments every image of `infer.images_dir` (or `input_path`) with a run's model.

    Returns:
        dict with counts `done`, `skipped`, `failed`, `failures` {name: reason}, `output_dir`.
    """
    from dl_suite.inference.batch import infer_paths

    tiled = cfg["tiledinfer"]
    source = input_path or tiled["images_dir"] or cfg["infer"]["images_dir"]
    if not source:
        raise UserError("Nothing to segment: set infer.images_dir in the config or pass --input PATH.")
    output_dir = Path(output_dir or tiled["output_dir"] or cfg["infer"]["output_dir"])
    run_dir = runs.resolve_run(cfg, run)
    weights = cfg["infer"]["weights"]
    model = load_model(weights if weights else runs.model_file(run_dir))
    run_cfg = load_run_config(run_dir)
    paths = list_images(source)
    options = with_run_postprocess(inference_options(cfg, run_cfg, run_dir, model), cfg, run_dir)
    logger.info("Segmenting %d image(s) with %s into %s", len(paths), run_dir.name, output_dir)
    from dl_suite.inference.video_batch import infer_video_paths, video_setup

    video = video_setup(model, cfg, run_cfg)  # ConvLSTM windows / temporal post-processing
    if video is not None:
        predict, spec, temporal = video
        report = infer_video_paths(paths, output_dir, predict, options, spec, temporal,
                                   overwrite=overwrite)
    else:
        report = infer_paths(paths, output_dir, model_predictor(model), options, overwrite=overwrite)
    return {
        "done": len(report.written),
        "skipped": len(report.skipped),
        "failed": len(report.failed),
        "failures": {Path(p).name: msg for p, msg in report.failed},
        "output_dir": output_dir,
    }
