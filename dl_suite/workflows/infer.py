"""infer(cfg): segment new images with a trained run -> probability maps, masks, labels, overlays."""

import logging
from pathlib import Path

from dl_suite.errors import UserError
from dl_suite.io.pairs import list_images
from dl_suite.workflows import runs
from dl_suite.workflows.inference_setup import (  # noqa: F401  (inference_options re-exported)
    inference_options,
    prepare_inference,
    with_run_postprocess,
)
from dl_suite.workflows.packages import opened_run
from dl_suite.workflows.predict import load_model, load_run_config, model_predictor

logger = logging.getLogger(__name__)


def infer(cfg, *, run=None, input_path=None, output_dir=None, overwrite=False, shard=None):
    """Segments every image of `infer.images_dir` (or `input_path`) with a run's model.

    `run` may also be a bioimage.io package exported by dl-suite (zip or folder).

    Args:
        shard: optional `inference.shards.Shard` (`--shard I/N`): segment only every N-th
            input of the sorted list (every N-th video for folders of video frames).

    Returns:
        dict with counts `done`, `skipped`, `failed`, `partial` (outputs exist in part: not
        redone without `overwrite`), `failures` {name: reason}, `output_dir`.
    """
    source = input_path or cfg["infer"]["images_dir"]
    if not source:
        raise UserError("Nothing to segment: set infer.images_dir in the config or pass --input PATH.")
    output_dir = Path(output_dir or cfg["infer"]["output_dir"])
    with opened_run(cfg, run) as run_dir:  # a run folder or a dl-suite bioimage.io package
        report = _infer_with_run(cfg, run_dir, source, output_dir, overwrite, shard)
    return {
        "done": len(report.written),
        "skipped": len(report.skipped),
        "failed": len(report.failed),
        "partial": len(report.partial),
        "failures": {Path(p).name: msg for p, msg in report.failed},
        "output_dir": output_dir,
    }


def _infer_with_run(cfg, run_dir, source, output_dir, overwrite, shard):
    """Loads the run's model and segments the images of `source`; returns the batch report."""
    from dl_suite.inference.batch import infer_paths

    weights = cfg["infer"]["weights"]
    model = load_model(weights if weights else runs.model_file(run_dir), run_dir=run_dir)
    run_cfg = load_run_config(run_dir)
    paths = list_images(source)
    model, options = prepare_inference(cfg, run_cfg, run_dir, model)
    options = with_run_postprocess(options, cfg, run_dir)
    logger.info("Segmenting %d image(s) with %s into %s", len(paths), run_dir.name, output_dir)
    from dl_suite.inference.video_batch import infer_video_paths, video_setup

    video = video_setup(model, cfg, run_cfg)  # ConvLSTM windows / temporal post-processing
    if video is not None:
        predict, spec, temporal = video
        from dl_suite.workflows.video_data import frame_video_groups

        groups = frame_video_groups(cfg, paths)  # the JSON dialect's flat folders of 2-D frames
        if groups is not None:
            from dl_suite.inference.frame_videos import infer_frame_videos

            report = infer_frame_videos(groups, output_dir, predict, options, spec, temporal,
                                        overwrite=overwrite, shard=shard)
        else:
            report = infer_video_paths(paths, output_dir, predict, options, spec, temporal,
                                       overwrite=overwrite, shard=shard)
    else:
        report = infer_paths(paths, output_dir, model_predictor(model), options,
                             overwrite=overwrite, shard=shard)
    return report
