"""Seeds and fine-tuning from an earlier run."""

import logging
from pathlib import Path

import keras

from dl_suite import losses as _losses  # noqa: F401  (registers serializable losses)
from dl_suite import metrics as _metrics  # noqa: F401  (registers serializable metrics)
from dl_suite import optimizers as _optimizers  # noqa: F401  (registers schedules)

from dl_suite.callbacks.common import (  # noqa: F401
    CALLBACKS,
    BEST_MODEL,
    LAST_MODEL,
    HISTORY_FILE,
    CURVES_FILE,
    RESUME_DIR,
    STATE_FILE,
    CHECKPOINT_DIR,
    HIGHER_IS_BETTER,
    monitor_mode,
    _finite,
    _json_number,
)

from dl_suite.io import is_weights_file, load_keras_model

logger = logging.getLogger(__name__)

def set_global_seed(seed, deterministic=False):
    """Seeds Python, NumPy and the backend; optionally makes TensorFlow ops deterministic.

    On CPU, the same seed gives the same initial and trained weights.
    """
    keras.utils.set_random_seed(int(seed))
    if deterministic and keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


def load_pretrained_weights(model, path, freeze_encoder=False):
    """Fine-tuning: copies weights from a previous run's model, optionally freezing the encoder.

    Weights are matched by layer name; layers whose names or shapes differ (e.g. a new output
    head for another number of classes) keep their fresh initialisation and are logged.
    Compile (or re-compile) the model after calling this, so freezing takes effect.

    Args:
        model: the freshly built model.
        path: a `.keras` model or a `.weights.h5` file of the same architecture.
        freeze_encoder: freeze the encoder with `dl_suite.models.freeze_encoder` (the one
            rule, also used when building without pretrained weights).

    Returns:
        dict with `loaded` and `skipped` layer names and `frozen` (count).

    Raises:
        ValueError: the file is missing or of an unknown type.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(
            f"Received `pretrained_weights='{path}'`, which does not exist. Expected a "
            "previous run's model.keras (or .weights.h5). To fix: correct the path."
        )
    loaded, skipped = [], []
    if is_weights_file(path):
        model.load_weights(path)
        loaded = [layer.name for layer in model.layers if layer.weights]
    elif path.suffix == ".keras":
        source = load_keras_model(path, compile=False)
        by_name = {layer.name: layer for layer in source.layers}
        for layer in model.layers:
            if not layer.weights:
                continue
            other = by_name.get(layer.name)
            weights = other.get_weights() if other is not None else None
            if weights is not None and [w.shape for w in weights] == [
                tuple(w.shape) for w in layer.weights
            ]:
                layer.set_weights(weights)
                loaded.append(layer.name)
            else:
                skipped.append(layer.name)
    else:
        raise ValueError(
            f"Received `pretrained_weights='{path}'` of type '{path.suffix}'; expected a "
            "'.keras' model or a '.weights.h5' file."
        )
    if skipped:
        logger.warning("Pretrained weights: %d layer(s) not matched and left fresh: %s",
                       len(skipped), ", ".join(skipped[:10]))
    frozen = 0
    if freeze_encoder:
        from dl_suite.models import freeze_encoder as freeze

        frozen = freeze(model)
    logger.info("Fine-tuning from %s: %d layers loaded, %d frozen.", path, len(loaded), frozen)
    return {"loaded": loaded, "skipped": skipped, "frozen": frozen}
