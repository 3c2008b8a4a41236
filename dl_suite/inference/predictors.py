"""Batch predictors for tiling: callables float32 (N, h, w, C) -> float32 (N, h, w, K)."""

import numpy as np


def keras_predictor(model, batch_size=None):
    """Wraps a Keras model as a tile predictor (Keras is only used through `model`).

    Uses `model.predict_on_batch` (no tf.data pipeline per call, so many small tile batches
    stay fast). `batch_size` optionally splits larger batches into chunks.

    Args:
        model: a built `keras.Model` with a fully convolutional, same-size output.
        batch_size: maximum items per model call (None = the whole batch at once).

    Returns:
        callable(batch) -> float32 numpy array.
    """

    def predict(batch):
        batch = np.ascontiguousarray(batch, np.float32)
        if batch_size is None or len(batch) <= batch_size:
            return np.asarray(model.predict_on_batch(batch), np.float32)
        parts = [model.predict_on_batch(batch[i : i + batch_size])
                 for i in range(0, len(batch), batch_size)]
        return np.concatenate([np.asarray(p, np.float32) for p in parts])

    predict.model = model
    return predict
