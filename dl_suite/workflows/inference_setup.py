"""How a run's model predicts and post-processes, shared by `infer` and `evaluate`.

`prepare_inference` gives both workflows the same model (free spatial size when possible, see
`inference.free_size`) and the same tiling and normalisation; `with_run_postprocess` adds the
one post-processing rule (`workflows.postprocessing.run_postprocess`). Workflows share this
module instead of importing each other.
"""

import logging
from dataclasses import replace
from functools import partial

from dl_suite.data.preprocess import preprocess_image
from dl_suite.workflows.postprocessing import run_postprocess

logger = logging.getLogger(__name__)


def inference_options(cfg, run_cfg, run_dir, model, *, receptive_radius=None):
    """InferenceOptions from the config's [tiledinfer], [segmentation] and [infer] sections.

    The preprocessing comes from the run's config. A model that takes one input size only
    (see `inference.free_size`) is tiled at that size, with a halo that leaves a tile core;
    other models use `tile_size`. The halo is `halo` when set, else the measured
    receptive-field radius `receptive_radius` capped by `max_halo` (null = no cap).
    """
    from dl_suite.inference.batch import options_from_config
    from dl_suite.inference.free_size import spatial_size
    from dl_suite.inference.normalize import normalizer_from_config
    from dl_suite.inference.tiling import DEFAULT_OVERLAP
    from dl_suite.models import input_multiple

    model_section = dict(run_cfg["model"])
    tiled = dict(cfg["tiledinfer"])
    multiple = input_multiple(model_section.pop("name"), **model_section)
    fixed = spatial_size(model)
    receptive_field = None if receptive_radius is None else 2 * int(receptive_radius) + 1
    if fixed:
        side = min(fixed)
        overlap = tiled["overlapping"] if tiled["overlapping"] is not None else DEFAULT_OVERLAP
        tiled["overlapping"] = min(overlap, max(1, side // 8))
        # the tile core (side - 2 * halo) must stay larger than the overlap
        room = max(0, (side - tiled["overlapping"] - multiple) // 2 // multiple * multiple)
        cap = tiled["max_halo"]
        tiled["max_halo"] = room if cap is None else min(cap, room)
        if tiled["halo"] is not None:
            tiled["halo"] = min(int(max(tiled["halo"])) if isinstance(tiled["halo"], (list, tuple))
                                else int(tiled["halo"]), room)
        if tiled["tile_size"] not in (None, list(fixed), tuple(fixed)) or tiled["split_size"]:
            logger.info("tile_size is ignored: this model takes %dx%d inputs only.", *fixed)
        tiled["tile_size"] = fixed
        if not tiled["enabled"]:
            logger.warning("tiledinfer.enabled = false is ignored: this model takes %dx%d inputs "
                           "only, so larger images are tiled at that size.", *fixed)
            tiled["enabled"] = True
    elif receptive_field is None and tiled["halo"] is None and tiled["max_halo"] is None:
        logger.warning("The receptive field could not be measured and max_halo is null: using "
                       "a halo of %d px.", 256)
        tiled["max_halo"] = 256
    return options_from_config(
        tiled, cfg["segmentation"], cfg["infer"],
        num_channels=model_section["image_channels"],
        num_outputs=int(model.outputs[0].shape[-1]),
        input_multiple=multiple,
        receptive_field=receptive_field,
        run_threshold=_stored_threshold(run_dir),
        normalize=partial(preprocess_image, cfg=run_cfg),
        tile_normalizer=normalizer_from_config(run_cfg),
        axes=cfg["dataset"].get("axes") or run_cfg["dataset"].get("axes"),
    )


def prepare_inference(cfg, run_cfg, run_dir, model):
    """The model ready for inference (free spatial size when possible) and its options.

    Returns:
        (model, InferenceOptions).
    """
    from dl_suite.inference.free_size import prepare_for_inference
    from dl_suite.models import input_multiple

    if len(model.inputs[0].shape) == 5:  # ConvLSTM video models: fixed size, the video path tiles
        return model, inference_options(cfg, run_cfg, run_dir, model)
    section = dict(run_cfg["model"])
    multiple = input_multiple(section.pop("name"), **section)
    model, radius = prepare_for_inference(model, input_multiple=multiple)
    return model, inference_options(cfg, run_cfg, run_dir, model, receptive_radius=radius)


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
