"""Loading a run's model and predicting whole images with it (tiled, any size)."""

import json
import logging
from pathlib import Path

import numpy as np

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

    return keras.saving.load_model(path, compile=False)


def keras_predictor(model):
    """Callable (N, h, w, C) float32 -> (N, h, w, K) float32 probabilities (main output)."""

    def predict(batch):
        out = model(batch, training=False)
        if isinstance(out, (list, tuple)):
            out = out[0]
        elif isinstance(out, dict):
            out = next(iter(out.values()))
        return np.asarray(out, dtype=np.float32)

    return predict


class ImagePredictor:
    """Predicts probability maps of whole preprocessed images with a trained model.

    Args:
        model: a Keras model.
        run_cfg: the run's Config (model name and knobs give the input multiple).
        tiled: the `[tiledinfer]` options (tile size, halo, overlap, window, tta, batch size).
    """

    def __init__(self, model, run_cfg, tiled=None):
        from dl_suite.models import input_multiple

        section = dict(run_cfg["model"])
        self.model = model
        self.multiple = input_multiple(section["name"], **section)
        shape = model.inputs[0].shape
        self.fixed_size = None if shape[1] is None else (int(shape[1]), int(shape[2]))
        self.tiled = dict(tiled or {})
        self.predict_batch = keras_predictor(model)

    def __call__(self, image, progress=False):
        """(H, W, C) float32 -> (H, W, K) float32 probabilities."""
        from dl_suite.inference.tiling import predict_tiled

        opts = self.tiled
        tile = self.fixed_size or opts.get("tile_size") or 1024
        halo = opts.get("halo")
        if self.fixed_size:
            halo = halo if halo is not None else min(tile) // 8
        return predict_tiled(
            image, self.predict_batch,
            tile_size=tile,
            halo=halo if halo is not None else 32,
            overlap=opts.get("overlap", 32),
            batch_size=opts.get("batch_size", 4),
            window=opts.get("window", "gaussian"),
            tta=opts.get("tta", "none"),
            input_multiple=self.multiple,
            progress=progress,
        )
