"""Targets, weights and ignored pixels of `y_true`, and the per-image reductions the losses share.

Conventions: see `dl_suite.losses`.
"""

from keras import ops

EPSILON = 1e-7


def split_target(y_true):
    """Splits `y_true` into the target channel and the optional weight map.

    Returns:
        (target, weights): target (B, H, W, 1); weights (B, H, W, 1) or None.

    Raises:
        ValueError: `y_true` has more than two channels.
    """
    channels = y_true.shape[-1]
    if channels is not None and channels > 2:
        raise ValueError(
            f"Received `y_true` with {channels} channels (shape {tuple(y_true.shape)}), "
            "expected 1 (target) or 2 (target + per-pixel weight map). To fix: give masks "
            "as one channel of 0/1 or class indices, not one-hot; weights go in channel 2."
        )
    target = y_true[..., :1]
    weights = y_true[..., 1:2] if channels == 2 else None
    return target, weights


def num_classes_of(y_pred):
    channels = y_pred.shape[-1]
    if channels is None:
        raise ValueError(
            f"Received `y_pred` with unknown channel count (shape {y_pred.shape}); expected a "
            "static last dimension (1 for binary, C for multi-class)."
        )
    return int(channels)


def target_probabilities(y_true, y_pred):
    """Returns (one_hot_or_binary_target, clipped_probabilities, weights).

    Binary outputs keep one channel; multi-class outputs get a one-hot target with C channels.
    """
    target, weights = split_target(y_true)
    y_pred = ops.convert_to_tensor(y_pred)
    target = ops.cast(target, y_pred.dtype)
    # Ignored pixels hold -1. Test `< 0`, not `>= 0`: a NaN target must stay NaN (NaNGuard).
    ignored = target < 0
    target = ops.where(ignored, ops.zeros_like(target), target)
    num_classes = num_classes_of(y_pred)
    if num_classes > 1:
        target = ops.one_hot(ops.cast(target[..., 0], "int32"), num_classes, dtype=y_pred.dtype)
    if weights is not None:
        weights = ops.cast(weights, y_pred.dtype)
    probs = ops.clip(y_pred, EPSILON, 1.0 - EPSILON)
    # An ignored pixel is predicted as its (background) target: no loss, no gradient.
    probs = ops.where(ignored, ops.clip(target, EPSILON, 1.0 - EPSILON), probs)
    return target, probs, weights


def per_image_mean(values):
    return ops.mean(values, axis=tuple(range(1, len(values.shape))))


def scored_pixels(y_true):
    """1 where the target is scored, 0 where it is ignored (target < 0, `dl_suite.data.ignore`),
    shape (B, H, W, 1); a NaN target stays scored (NaNGuard must see it)."""
    target, _ = split_target(ops.convert_to_tensor(y_true))
    return 1.0 - ops.cast(target < 0, "float32")


def scored_mean(values, y_true):
    """Per-image mean of per-pixel `values` over the scored pixels: ignored pixels (target
    < 0, `dl_suite.data.ignore`) are left out of the sum and the count, so an image with many
    of them weighs as much as any other (0 for an image with none scored)."""
    scored = ops.cast(scored_pixels(y_true), values.dtype)
    if len(scored.shape) == len(values.shape) + 1:  # values without the channel axis
        scored = scored[..., 0]
    axes = tuple(range(1, len(values.shape)))
    count = ops.sum(scored, axis=axes)
    return ops.sum(values * scored, axis=axes) / ops.maximum(count, 1.0)


def spatial_sum(values):
    """Sums over H, W (and T for (B, T, H, W, C) video targets), keeping (B, C)."""
    return ops.sum(values, axis=tuple(range(1, len(values.shape) - 1)))


def class_weight_map(target, class_weights, dtype):
    """Per-pixel weights from per-class weights; `target` is binary or one-hot (B, H, W, C)."""
    class_weights = ops.convert_to_tensor(class_weights, dtype=dtype)
    if target.shape[-1] == 1:
        if class_weights.shape[0] != 2:
            raise ValueError(
                f"Received `class_weights` of length {class_weights.shape[0]} for a binary "
                "(1-channel) output, expected 2 values [background, foreground]."
            )
        return class_weights[0] * (1.0 - target) + class_weights[1] * target
    if class_weights.shape[0] != target.shape[-1]:
        raise ValueError(
            f"Received `class_weights` of length {class_weights.shape[0]} for a "
            f"{target.shape[-1]}-class output, expected one weight per class. To fix: set "
            "`model_category_weights` / `class_weights` to a list of that length."
        )
    return ops.sum(target * class_weights, axis=-1, keepdims=True)


def pixel_cross_entropy(target, probs):
    """Per-pixel cross-entropy (B, H, W, 1): binary for 1 channel, categorical otherwise."""
    if probs.shape[-1] == 1:
        return -(target * ops.log(probs) + (1.0 - target) * ops.log(1.0 - probs))
    return -ops.sum(target * ops.log(probs), axis=-1, keepdims=True)


def overlap_terms(target, probs):
    """Soft TP, FP, FN per image and class, shape (B, C)."""
    tp = spatial_sum(target * probs)
    fp = spatial_sum((1.0 - target) * probs)
    fn = spatial_sum(target * (1.0 - probs))
    return tp, fp, fn


def foreground_classes(values):
    """For multi-class (B, C) values drop the background class 0; binary is kept."""
    return values if values.shape[-1] == 1 else values[:, 1:]
