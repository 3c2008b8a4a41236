"""Loading a run's model and predicting whole images with it (tiled, any size)."""

import json
import logging
from pathlib import Path

from dl_suite.config import config_from_dict
from dl_suite.workflows import runs

logger = logging.getLogger(__name__)


def load_run_config(run_dir):
    """The resolved config a run was trained with (its preprocessing is reused as is)."""
    path = Path(run_dir) / runs.CONFIG_FILE
    data = json.loads(path.read_text(encoding="utf-8"))
    return config_from_dict(data, base_dir=run_dir, source=path)


def load_model(path):
    """Loads a `.keras` model for prediction (custom objects are registered by importing them)."""
    import keras

    import dl_suite.losses  # noqa: F401  (registers serializable losses)
    import dl_suite.metrics  # noqa: F401
    import dl_suite.models  # noqa: F401

    model = keras.saving.load_model(path, compile=False)
    if len(model.outputs) > 1:  # deep supervision: predict with the main output only
        model = keras.Model(model.inputs, model.outputs[0], name=f"{model.name}_main")
    return model


class ImagePredictor:
    """Predicts probability maps of whole preprocessed images with a trained model (tiled).

    Args:
        model: a Keras model.
        options: `InferenceOptions` (tile size, halo, overlap, window, TTA, input multiple).
    """

    def __init__(self, model, options):
        from dl_suite.inference.predictors import keras_predictor

        self.options = options
        self.predict_batch = keras_predictor(model)

    def __call__(self, image, progress=False):
        """(H, W, C) float32 -> (H, W, K) float32 probabilities."""
        from dl_suite.inference.tiling import predict_tiled

        o = self.options
        return predict_tiled(
            image, self.predict_batch, tile_size=o.tile_size, halo=o.halo, overlap=o.overlap,
            batch_size=o.batch_size, window=o.window, tta=o.tta,
            input_multiple=o.input_multiple, progress=progress,
        )
