"""Epoch-change inference: prediction grids of a few fixed images after every epoch."""

import logging
from pathlib import Path

import keras
import numpy as np

from dl_suite import losses as _losses  # noqa: F401  (registers serializable losses)
from dl_suite import metrics as _metrics  # noqa: F401  (registers serializable metrics)
from dl_suite import optimizers as _optimizers  # noqa: F401  (registers schedules)
from dl_suite.display import to_display_rgb
from dl_suite.io import write_image

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

logger = logging.getLogger(__name__)

def prediction_panel(prediction, threshold=None):
    """A displayable (H, W) float map in [0, 1] from a model output (H, W, K)."""
    prediction = np.asarray(prediction, dtype="float32")
    if prediction.ndim == 2:
        prediction = prediction[..., None]
    if prediction.shape[-1] > 1:
        return prediction.argmax(-1) / float(prediction.shape[-1] - 1)
    panel = prediction[..., 0]
    return (panel >= threshold).astype("float32") if threshold is not None else panel


def make_preview_grid(images, predictions, masks=None, threshold=None, gap=4):
    """One row per image: image | [true mask] | prediction, as a uint8 RGB array.

    Rows of different sizes are padded with black, so tiled previews of whole images work.
    """
    rows = []
    for index, (image, prediction) in enumerate(zip(images, predictions)):
        panels = [to_display_rgb(image)]
        if masks is not None:
            mask = np.asarray(masks[index], dtype="float32")
            if mask.ndim == 3:
                mask = mask[..., 0]
            panels.append(to_display_rgb(mask, value_range=(0.0, max(1.0, float(mask.max())))))
        panels.append(to_display_rgb(prediction_panel(prediction, threshold), value_range=(0, 1)))
        height = max(p.shape[0] for p in panels)
        padded = [np.pad(p, ((0, height - p.shape[0]), (0, gap), (0, 0))) for p in panels]
        rows.append(np.concatenate(padded, axis=1))
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, gap), (0, width - r.shape[1]), (0, 0))) for r in rows]
    return np.concatenate(rows, axis=0)


def _first_output(output):
    if isinstance(output, (list, tuple)):
        output = output[0]
    if isinstance(output, dict):
        output = next(iter(output.values()))
    return keras.ops.convert_to_numpy(output)


def predict_padded(model, image, multiple=32):
    """Predicts one (H, W, C) image with a fully convolutional model.

    A model with a fixed input size sees the image cropped/padded to that size (top-left); a
    model with free input size sees it reflect-padded to a multiple of `multiple`. The
    prediction is cropped back to the image area.
    """
    image = np.asarray(image, dtype="float32")
    if image.ndim == 2:
        image = image[..., None]
    height, width = image.shape[:2]
    shape = model.inputs[0].shape if getattr(model, "inputs", None) else (None, None, None)
    target_h, target_w = shape[1], shape[2]
    if target_h is None or target_w is None:
        target_h = -(-height // multiple) * multiple
        target_w = -(-width // multiple) * multiple
    crop = image[:target_h, :target_w]
    pad_h, pad_w = target_h - crop.shape[0], target_w - crop.shape[1]
    mode = "reflect" if pad_h < crop.shape[0] and pad_w < crop.shape[1] else "constant"
    batch = np.pad(crop, ((0, pad_h), (0, pad_w), (0, 0)), mode=mode)[None]
    output = _first_output(model(batch, training=False))[0]
    return output[: crop.shape[0], : crop.shape[1]]


def tiled_predict_fn(tile_size, overlap=None, halo=None, input_multiple=32):
    """A `predict_fn(model, image)` that predicts whole images tile by tile (tiled previews).

    Args:
        tile_size: model input size (int or (rows, cols)).
        overlap, halo: tile overlap and discarded context per side; default 1/8 of the
            smaller tile side (at most 32 pixels).
        input_multiple: tile sizes are multiples of this (2 ** number of poolings).
    """
    rows, cols = (tile_size, tile_size) if isinstance(tile_size, int) else tile_size
    default = min(32, min(rows, cols) // 8)
    overlap = default if overlap is None else overlap
    halo = default if halo is None else halo

    def predict(model, image):
        from dl_suite.inference.tiling import predict_tiled

        return predict_tiled(
            image, lambda batch: _predict_batch(model, batch), tile_size=(rows, cols),
            overlap=overlap, halo=halo, input_multiple=input_multiple, progress=False,
        )

    return predict


def _predict_batch(model, batch):
    """Predicts (N, h, w, C); pads up to a fixed model input size and crops back."""
    shape = model.inputs[0].shape if getattr(model, "inputs", None) else (None, None, None)
    height, width = batch.shape[1:3]
    pad_h = 0 if shape[1] is None else max(0, shape[1] - height)
    pad_w = 0 if shape[2] is None else max(0, shape[2] - width)
    if pad_h or pad_w:
        batch = np.pad(batch, ((0, 0), (0, pad_h), (0, pad_w), (0, 0)), mode="edge")
    return _first_output(model(batch, training=False))[:, :height, :width]


@CALLBACKS.register("epoch_change_infer")
class EpochChangeInference(keras.callbacks.Callback):
    """Writes `out_dir/epoch_NNN.png`: predictions for fixed images after every N epochs.

    Args:
        images: list of (H, W[, C]) arrays (any sizes), preprocessed as the model expects.
        out_dir: folder of the PNG grids.
        masks: optional list of true masks, shown next to the predictions.
        every_n_epochs: write a grid every N epochs (and after the last one).
        predict_fn: `predict_fn(model, image) -> (H, W, K)`; default `predict_padded`; pass
            `tiled_predict_fn(...)` for tiled previews of whole images.
        threshold: show the thresholded mask instead of the probability map.
        tensorboard_dir: also log the grid as a TensorBoard image there (needs TensorFlow).
    """

    def __init__(self, images, out_dir, masks=None, every_n_epochs=1, predict_fn=None,
                 threshold=None, tensorboard_dir=None):
        super().__init__()
        self.images = list(images)
        self.masks = None if masks is None else list(masks)
        self.out_dir = Path(out_dir)
        self.every_n_epochs = max(1, int(every_n_epochs))
        self.predict_fn = predict_fn or predict_padded
        self.threshold = threshold
        self.tensorboard_dir = tensorboard_dir
        self._writer = None

    def on_epoch_end(self, epoch, logs=None):
        if not self.images or (epoch + 1) % self.every_n_epochs:
            return
        predictions = [self.predict_fn(self.model, image) for image in self.images]
        grid = make_preview_grid(self.images, predictions, self.masks, self.threshold)
        write_image(self.out_dir / f"epoch_{epoch + 1:03d}.png", grid)
        if self.tensorboard_dir:
            self._log_tensorboard(grid, epoch)

    def _log_tensorboard(self, grid, epoch):
        try:
            import tensorflow as tf
        except ImportError:
            logger.warning("TensorBoard preview images need TensorFlow; skipping them.")
            self.tensorboard_dir = None
            return
        if self._writer is None:
            self._writer = tf.summary.create_file_writer(str(self.tensorboard_dir))
        with self._writer.as_default():
            tf.summary.image("epoch_change_infer", grid[None], step=epoch + 1)
        self._writer.flush()
