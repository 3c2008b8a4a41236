"""Inference: tiled prediction (pure numpy, predictor injected), post-processing, outputs.

Nothing here imports Keras; `predictors.keras_predictor` only calls the model it is given.
"""

from dl_suite.inference.batch import (  # noqa: F401
    InferenceOptions,
    InferenceReport,
    infer_file,
    infer_paths,
    options_from_config,
)
from dl_suite.inference.oom import BatchSizeController, is_out_of_memory  # noqa: F401
from dl_suite.inference.overlay import OVERLAY_STYLES, make_overlay  # noqa: F401
from dl_suite.inference.postprocess import (  # noqa: F401
    INSTANCE_METHODS,
    THRESHOLD_METHODS,
    PostprocessOptions,
    clean_mask,
    label_instances,
    postprocess,
    resolve_threshold,
)
from dl_suite.inference.predictors import keras_predictor  # noqa: F401
from dl_suite.inference.tiling import (  # noqa: F401
    WINDOWS,
    default_halo,
    iter_image_tiles,
    iter_tiles,
    predict_stack,
    predict_tiled,
    to_frames,
    unet_receptive_field,
)
from dl_suite.inference.tta import TTA_MODES, tta_predictor  # noqa: F401
