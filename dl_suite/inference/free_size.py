"""Inference-time model preparation: free spatial size and the measured receptive field.

Models are trained (and saved) with a fixed input size. Fully convolutional ones are rebuilt
here with free height and width (weights copied), so tiled inference can use any `tile_size`.
A model whose layers need the training size (Swin-UNet / TransUNet position embeddings,
adaptive pooling, unpooling indices, static reshapes) keeps it; the reason is logged.

The receptive field is *measured*, not derived from the architecture: an impulse of +1 and -1
is added to every channel of the centre pixel of a random input, and the halo is the largest
distance (Chebyshev, in pixels) from the centre at which any output channel still changes by
more than `RESPONSE_TOLERANCE` (probability units). Beyond it the output does not depend on
the input, so a tile halo that large makes tiled and untiled predictions agree within it.
"""

import logging
import math

import numpy as np

logger = logging.getLogger(__name__)

RESPONSE_TOLERANCE = 1e-5  # output change (probability) below which a pixel is "not reached"
MAX_PROBE_SIZE = 1024  # largest probe image (pixels per side) for the measurement


def _ceil_to(value, multiple):
    return int(math.ceil(value / multiple) * multiple)


def _as_array(prediction):
    if isinstance(prediction, (list, tuple)):
        prediction = prediction[0]
    return np.asarray(prediction, np.float32)


def spatial_size(model):
    """(h, w) when the model takes one input size only, else None; the spatial axes are the
    two before the channels, so (B, H, W, C) images and (B, T, H, W, C) videos alike."""
    shape = model.inputs[0].shape
    return None if shape[-3] is None or shape[-2] is None else (int(shape[-3]), int(shape[-2]))


def free_spatial_model(model, input_multiple=1):
    """The model with free height and width (same weights), or the model itself.

    The rebuilt model is checked: on a random input of the training size it must predict what
    the original predicts (max difference 1e-5), and on a larger input an output of that size.

    Args:
        model: a built Keras functional model.
        input_multiple: the model's spatial size multiple (for the larger check input).

    Returns:
        (model, reason): the free-size model and None, or the original model and why it keeps
        its fixed size.
    """
    import keras

    size = spatial_size(model)
    if size is None:
        return model, None
    try:
        config = model.get_config()
        inputs = [layer for layer in config["layers"] if layer["class_name"] == "InputLayer"]
        if len(inputs) != 1:
            return model, f"it has {len(inputs)} inputs"
        batch_shape = list(inputs[0]["config"]["batch_shape"])
        if len(batch_shape) != 4:
            return model, f"its input has rank {len(batch_shape)} (not an image model)"
        batch_shape[1] = batch_shape[2] = None
        inputs[0]["config"]["batch_shape"] = tuple(batch_shape)
        free = model.__class__.from_config(config)
        free.set_weights(model.get_weights())
        channels = int(batch_shape[3])
        rng = np.random.default_rng(0)
        probe = rng.random((1,) + size + (channels,), dtype=np.float32)
        before = _as_array(model.predict_on_batch(probe))
        after = _as_array(free.predict_on_batch(probe))
        if before.shape != after.shape or float(np.abs(before - after).max()) > 1e-5:
            return model, "the rebuilt model predicts differently at the training size"
        step = 2 * max(int(input_multiple), 16)
        bigger = (size[0] + step, size[1] + step)
        out = _as_array(free.predict_on_batch(rng.random((1,) + bigger + (channels,), dtype=np.float32)))
        if out.shape[1:3] != bigger:
            return model, f"its output for a {bigger} input has shape {out.shape[1:3]}"
    except Exception as exc:  # noqa: BLE001 - any failure means the layers need the fixed size
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return model, f"its layers need the training size ({type(exc).__name__}: {reason[:120]})"
    if isinstance(model, keras.Model) and hasattr(model, "input_multiple"):
        free.input_multiple = model.input_multiple
    return free, None


def measure_receptive_radius(predict, channels, *, input_multiple=1, fixed_size=None,
                             tolerance=RESPONSE_TOLERANCE, max_size=MAX_PROBE_SIZE):
    """Measured receptive-field radius (pixels) of a model, by its impulse response.

    Args:
        predict: callable float32 (N, h, w, C) -> (N, h, w, K).
        channels: input channels C.
        input_multiple: probe sizes are multiples of twice this (the centre stays on the grid).
        fixed_size: (h, w) of a fixed-size model (probed at that size only), or None.
        tolerance: output change below which a pixel counts as not reached.
        max_size: largest probe side for free-size models.

    Returns:
        int radius, or None when the response reaches the probe border (larger than measurable).
    """
    step = 2 * int(input_multiple)
    sizes = [fixed_size] if fixed_size else []
    if not fixed_size:
        side = _ceil_to(max(64, 8 * int(input_multiple)), step)
        while side <= max_size:
            sizes.append((side, side))
            side *= 2
    rng = np.random.default_rng(0)
    for h, w in sizes:
        base = rng.random((h, w, channels), dtype=np.float32)
        batch = np.stack([base, base, base])
        cy, cx = h // 2, w // 2
        batch[1, cy, cx] += 1.0
        batch[2, cy, cx] -= 1.0
        out = _as_array(predict(batch))
        change = np.maximum(np.abs(out[1] - out[0]), np.abs(out[2] - out[0])).max(axis=-1)
        rows, cols = np.nonzero(change > tolerance)
        if rows.size == 0:
            return 0
        radius = int(max(np.abs(rows - cy).max(), np.abs(cols - cx).max()))
        if radius < min(cy, cx, h - 1 - cy, w - 1 - cx):
            return radius
    return None


def prepare_for_inference(model, *, input_multiple=1, free_size=True):
    """Free-size model (when possible) and its measured receptive-field radius.

    Args:
        model: the loaded Keras model (single output).
        input_multiple: the model's spatial size multiple.
        free_size: try to rebuild the model with free height and width.

    Returns:
        (model, radius or None); the reason a model keeps its fixed size is logged.
    """
    from dl_suite.inference.predictors import keras_predictor

    if free_size:
        rebuilt, reason = free_spatial_model(model, input_multiple)
        if reason:
            logger.info("Model '%s' keeps its training input size %s for inference: %s; tiles "
                        "are cut at that size.", model.name, spatial_size(model), reason)
        model = rebuilt
    radius = measure_receptive_radius(
        keras_predictor(model), int(model.inputs[0].shape[-1]), input_multiple=input_multiple,
        fixed_size=spatial_size(model),
    )
    logger.info("Measured receptive-field radius of '%s': %s.", model.name,
                f"{radius} px" if radius is not None else "larger than the probe")
    return model, radius
