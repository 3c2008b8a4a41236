"""Segmentation losses: pure `keras.ops` functions plus thin serializable `Loss` classes.

Data conventions (fixed by the team):
- `y_pred` is (B, H, W, 1) sigmoid probabilities (binary) or (B, H, W, C) softmax
  probabilities (multi-class).
- `y_true` is (B, H, W, 1) with the target (0/1, or the sparse class index 0..C-1), optionally
  followed by a second channel holding a per-pixel weight map: (B, H, W, 2). Weighted losses
  (`weighted_bce`, `weighted_bce_dice`, `categorical_cce`) multiply the per-pixel loss by that
  map; every other loss ignores it. One-hot targets are made internally.
- A target of -1 (`dl_suite.data.ignore.IGNORE_TARGET`) marks an ignored pixel: every loss
  counts it as perfectly predicted background, so it adds nothing to an overlap term and passes
  no gradient; pixel means (cross-entropy, focal) are taken over the other pixels only.

Every function returns one value per image, shape (B,); the `Loss` classes then average over the
batch. Overlap losses (dice, iou, tversky) use `smooth` in numerator and denominator, so an empty
mask predicted as empty gives a loss of 0 and every edge case stays finite.
"""

import inspect

import keras
from keras import ops

from dl_suite.registry import Registry

LOSSES = Registry("loss")

EPSILON = 1e-7


# ----------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------
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


def _num_classes(y_pred):
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
    num_classes = _num_classes(y_pred)
    if num_classes > 1:
        target = ops.one_hot(ops.cast(target[..., 0], "int32"), num_classes, dtype=y_pred.dtype)
    if weights is not None:
        weights = ops.cast(weights, y_pred.dtype)
    probs = ops.clip(y_pred, EPSILON, 1.0 - EPSILON)
    # An ignored pixel is predicted as its (background) target: no loss, no gradient.
    probs = ops.where(ignored, ops.clip(target, EPSILON, 1.0 - EPSILON), probs)
    return target, probs, weights


def _per_image_mean(values):
    return ops.mean(values, axis=tuple(range(1, len(values.shape))))


def scored_pixels(y_true):
    """1 where the target is scored, 0 where it is ignored (target < 0, `dl_suite.data.ignore`),
    shape (B, H, W, 1); a NaN target stays scored (NaNGuard must see it)."""
    target, _ = split_target(ops.convert_to_tensor(y_true))
    return 1.0 - ops.cast(target < 0, "float32")


def _scored_mean(values, y_true):
    """Per-image mean of per-pixel `values` over the scored pixels: ignored pixels (target
    < 0, `dl_suite.data.ignore`) are left out of the sum and the count, so an image with many
    of them weighs as much as any other (0 for an image with none scored)."""
    scored = ops.cast(scored_pixels(y_true), values.dtype)
    if len(scored.shape) == len(values.shape) + 1:  # values without the channel axis
        scored = scored[..., 0]
    axes = tuple(range(1, len(values.shape)))
    count = ops.sum(scored, axis=axes)
    return ops.sum(values * scored, axis=axes) / ops.maximum(count, 1.0)


def _spatial_sum(values):
    """Sums over H, W (and T for (B, T, H, W, C) video targets), keeping (B, C)."""
    return ops.sum(values, axis=tuple(range(1, len(values.shape) - 1)))


def _class_weight_map(target, class_weights, dtype):
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


def _pixel_cross_entropy(target, probs):
    """Per-pixel cross-entropy (B, H, W, 1): binary for 1 channel, categorical otherwise."""
    if probs.shape[-1] == 1:
        return -(target * ops.log(probs) + (1.0 - target) * ops.log(1.0 - probs))
    return -ops.sum(target * ops.log(probs), axis=-1, keepdims=True)


def _overlap_terms(target, probs):
    """Soft TP, FP, FN per image and class, shape (B, C)."""
    tp = _spatial_sum(target * probs)
    fp = _spatial_sum((1.0 - target) * probs)
    fn = _spatial_sum(target * (1.0 - probs))
    return tp, fp, fn


def _foreground(values):
    """For multi-class (B, C) values drop the background class 0; binary is kept."""
    return values if values.shape[-1] == 1 else values[:, 1:]


# ----------------------------------------------------------------------------------------------
# Pure loss functions, each returning (B,)
# ----------------------------------------------------------------------------------------------
def bce(y_true, y_pred):
    """Cross-entropy averaged over pixels (binary, or categorical for C channels)."""
    target, probs, _ = target_probabilities(y_true, y_pred)
    return _scored_mean(_pixel_cross_entropy(target, probs), y_true)


def weighted_cross_entropy(y_true, y_pred, class_weights=None):
    """Cross-entropy times per-pixel weights, averaged over pixels.

    The weight of a pixel is the weight map (channel 2 of `y_true`, weight 1 if absent) times
    the class weight of its true class (1 if `class_weights` is None). The mean is over all
    scored pixels (not normalised by the weight sum), as in the U-Net paper's weighted loss.
    """
    target, probs, weights = target_probabilities(y_true, y_pred)
    pixel = _pixel_cross_entropy(target, probs)
    if weights is not None:
        pixel = pixel * weights
    if class_weights is not None:
        pixel = pixel * _class_weight_map(target, class_weights, probs.dtype)
    return _scored_mean(pixel, y_true)


def sparse_cce(y_true, y_pred, class_weights=None):
    """Cross-entropy from sparse class indices, with optional class weights; ignores weight maps."""
    target, _ = split_target(y_true)
    return weighted_cross_entropy(target, y_pred, class_weights=class_weights)


def dice_loss(y_true, y_pred, smooth=1.0):
    """1 - soft Dice per image; multi-class averages the foreground classes 1..C-1."""
    target, probs, _ = target_probabilities(y_true, y_pred)
    tp, fp, fn = _overlap_terms(target, probs)
    dice = (2.0 * tp + smooth) / (2.0 * tp + fp + fn + smooth)
    return 1.0 - ops.mean(_foreground(dice), axis=-1)


def iou_loss(y_true, y_pred, smooth=1.0):
    """1 - soft IoU (Jaccard) per image; multi-class averages the foreground classes."""
    target, probs, _ = target_probabilities(y_true, y_pred)
    tp, fp, fn = _overlap_terms(target, probs)
    iou = (tp + smooth) / (tp + fp + fn + smooth)
    return 1.0 - ops.mean(_foreground(iou), axis=-1)


def tversky_index(y_true, y_pred, alpha=0.3, beta=0.7, smooth=1.0):
    """Tversky index TP / (TP + alpha FP + beta FN) per image and foreground class, (B, C')."""
    target, probs, _ = target_probabilities(y_true, y_pred)
    tp, fp, fn = _overlap_terms(target, probs)
    return _foreground((tp + smooth) / (tp + alpha * fp + beta * fn + smooth))


def tversky_loss(y_true, y_pred, alpha=0.3, beta=0.7, smooth=1.0):
    """1 - Tversky index (Salehi et al. 2017); beta > alpha penalises missed foreground more."""
    return 1.0 - ops.mean(tversky_index(y_true, y_pred, alpha, beta, smooth), axis=-1)


def focal_tversky_loss(y_true, y_pred, alpha=0.3, beta=0.7, gamma=0.75, smooth=1.0):
    """(1 - Tversky index) ** gamma (Abraham & Khan 2019), averaged over foreground classes."""
    index = tversky_index(y_true, y_pred, alpha, beta, smooth)
    return ops.mean(ops.power(ops.maximum(1.0 - index, 0.0), gamma), axis=-1)


def focal_loss(y_true, y_pred, gamma=2.0, alpha=0.25):
    """Focal loss (Lin et al. 2017): -alpha_t (1 - p_t)**gamma log(p_t), averaged over pixels.

    Binary: alpha weights the foreground, 1 - alpha the background; `alpha=None` disables it.
    Multi-class: alpha is one scalar for all classes (or None).
    """
    target, probs, _ = target_probabilities(y_true, y_pred)
    if probs.shape[-1] == 1:
        p_t = target * probs + (1.0 - target) * (1.0 - probs)
        alpha_t = 1.0 if alpha is None else target * alpha + (1.0 - target) * (1.0 - alpha)
        pixel = -alpha_t * ops.power(1.0 - p_t, gamma) * ops.log(p_t)
    else:
        scale = 1.0 if alpha is None else alpha
        pixel = -scale * ops.sum(target * ops.power(1.0 - probs, gamma) * ops.log(probs), axis=-1)
    return _scored_mean(pixel, y_true)


def _gaussian_kernel(size, sigma, channels, dtype):
    coords = ops.arange(size, dtype=dtype) - (size - 1) / 2.0
    g = ops.exp(-(coords**2) / (2.0 * sigma**2))
    g = g / ops.sum(g)
    kernel = ops.outer(g, g)
    return ops.tile(ops.reshape(kernel, (size, size, 1, 1)), (1, 1, channels, 1))


def ssim_per_image(y_true, y_pred, window_size=11, sigma=1.5, c1=0.01**2, c2=0.03**2,
                   scored=None):
    """Mean SSIM per image (Gaussian window, 'valid' positions only) for data in [0, 1].

    Both inputs must have the same channels; multi-class callers pass the one-hot target.
    `scored` (B, H, W, 1; 1 = scored, 0 = ignored) leaves out every window that holds an
    ignored pixel (an image without a whole scored window has SSIM 1: nothing to learn).
    """
    channels = _num_classes(y_pred)
    size = min(window_size, y_pred.shape[1] or window_size, y_pred.shape[2] or window_size)
    kernel = _gaussian_kernel(size, sigma, channels, y_pred.dtype)

    def blur(x):
        return ops.depthwise_conv(x, kernel, strides=1, padding="valid")

    mu_t, mu_p = blur(y_true), blur(y_pred)
    var_t = blur(y_true * y_true) - mu_t**2
    var_p = blur(y_pred * y_pred) - mu_p**2
    cov = blur(y_true * y_pred) - mu_t * mu_p
    ssim = ((2 * mu_t * mu_p + c1) * (2 * cov + c2)) / (
        (mu_t**2 + mu_p**2 + c1) * (var_t + var_p + c2)
    )
    if scored is None:
        return _per_image_mean(ssim)
    # a window is kept when it holds no ignored pixel: the box sum of the ignored indicator is 0
    box = ops.ones((size, size, 1, 1), dtype=y_pred.dtype)
    ignored_in_window = ops.conv(1.0 - ops.cast(scored, y_pred.dtype), box, padding="valid")
    kept = ops.cast(ignored_in_window < 0.5, y_pred.dtype)
    axes = tuple(range(1, len(ssim.shape)))
    count = ops.sum(kept * ops.ones_like(ssim), axis=axes)
    total = ops.sum(ssim * kept, axis=axes)
    return ops.where(count > 0, total / ops.maximum(count, 1.0), ops.ones_like(total))


def basnet_hybrid_loss(y_true, y_pred, smooth=1.0, window_size=11):
    """BASNet hybrid loss (Qin et al. 2019): BCE + (1 - SSIM) + IoU loss, per image."""
    target, probs, _ = target_probabilities(y_true, y_pred)
    ssim = ssim_per_image(target, probs, window_size=window_size, scored=scored_pixels(y_true))
    return bce(y_true, y_pred) + (1.0 - ssim) + iou_loss(y_true, y_pred, smooth=smooth)


def bce_dice_loss(y_true, y_pred, bce_weight=1.0, dice_weight=1.0, smooth=1.0):
    """bce_weight * BCE + dice_weight * (1 - Dice): the INI `bce_dice_loss`."""
    return bce_weight * bce(y_true, y_pred) + dice_weight * dice_loss(y_true, y_pred, smooth)


def weighted_bce_dice_loss(
    y_true, y_pred, class_weights=None, bce_weight=1.0, dice_weight=1.0, smooth=1.0
):
    """Border-emphasis variant: weighted cross-entropy (weight map, class weights) + Dice."""
    weighted = weighted_cross_entropy(y_true, y_pred, class_weights=class_weights)
    return bce_weight * weighted + dice_weight * dice_loss(y_true, y_pred, smooth)


# ----------------------------------------------------------------------------------------------
# Loss classes (thin wrappers; serializable)
# ----------------------------------------------------------------------------------------------
class _FunctionLoss(keras.losses.Loss):
    """Calls `self.fn(y_true, y_pred, **params)`; subclasses fix `fn` and list their params."""

    fn = None

    def __init__(self, name, reduction="sum_over_batch_size", dtype=None, **params):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self._params = params
        for key, value in params.items():
            setattr(self, key, value)

    def call(self, y_true, y_pred):
        return type(self).fn(y_true, y_pred, **self._params)

    def get_config(self):
        config = super().get_config()
        config.update(self._params)
        return config


def _register(name, aliases=()):
    def decorator(cls):
        cls = keras.saving.register_keras_serializable(package="dl_suite")(cls)
        return LOSSES.register(name, aliases=aliases)(cls)

    return decorator


@_register("bce", aliases=("binary_crossentropy", "binary_cross_entropy"))
class BinaryCrossEntropy(_FunctionLoss):
    """Pixel-wise cross-entropy; ignores the weight-map channel."""

    fn = staticmethod(bce)

    def __init__(self, name="bce", **kwargs):
        super().__init__(name=name, **kwargs)


@_register("weighted_bce")
class WeightedBinaryCrossEntropy(_FunctionLoss):
    """Cross-entropy weighted by the y_true weight map and/or `class_weights`."""

    fn = staticmethod(weighted_cross_entropy)

    def __init__(self, class_weights=None, name="weighted_bce", **kwargs):
        super().__init__(name=name, class_weights=_as_list(class_weights), **kwargs)


@_register("dice", aliases=("dice_loss",))
class DiceLoss(_FunctionLoss):
    """1 - soft Dice per image."""

    fn = staticmethod(dice_loss)

    def __init__(self, smooth=1.0, name="dice", **kwargs):
        super().__init__(name=name, smooth=smooth, **kwargs)


@_register("bce_dice", aliases=("bce_dice_loss",))
class BCEDiceLoss(_FunctionLoss):
    """BCE + Dice loss."""

    fn = staticmethod(bce_dice_loss)

    def __init__(self, bce_weight=1.0, dice_weight=1.0, smooth=1.0, name="bce_dice", **kwargs):
        super().__init__(
            name=name, bce_weight=bce_weight, dice_weight=dice_weight, smooth=smooth, **kwargs
        )


@_register("weighted_bce_dice", aliases=("weighted_bce_dice_loss",))
class WeightedBCEDiceLoss(_FunctionLoss):
    """Weighted cross-entropy (weight map / class weights) + Dice loss."""

    fn = staticmethod(weighted_bce_dice_loss)

    def __init__(
        self,
        class_weights=None,
        bce_weight=1.0,
        dice_weight=1.0,
        smooth=1.0,
        name="weighted_bce_dice",
        **kwargs,
    ):
        super().__init__(
            name=name,
            class_weights=_as_list(class_weights),
            bce_weight=bce_weight,
            dice_weight=dice_weight,
            smooth=smooth,
            **kwargs,
        )


@_register("iou", aliases=("jaccard", "iou_loss", "jaccard_loss"))
class IoULoss(_FunctionLoss):
    """1 - soft IoU (Jaccard) per image."""

    fn = staticmethod(iou_loss)

    def __init__(self, smooth=1.0, name="iou", **kwargs):
        super().__init__(name=name, smooth=smooth, **kwargs)


@_register("focal", aliases=("focal_loss",))
class FocalLoss(_FunctionLoss):
    """Focal loss with `gamma` (focusing) and `alpha` (foreground balance)."""

    fn = staticmethod(focal_loss)

    def __init__(self, gamma=2.0, alpha=0.25, name="focal", **kwargs):
        super().__init__(name=name, gamma=gamma, alpha=alpha, **kwargs)


@_register("tversky", aliases=("tversky_loss",))
class TverskyLoss(_FunctionLoss):
    """1 - Tversky index; `alpha` weights false positives, `beta` false negatives."""

    fn = staticmethod(tversky_loss)

    def __init__(self, alpha=0.3, beta=0.7, smooth=1.0, name="tversky", **kwargs):
        super().__init__(name=name, alpha=alpha, beta=beta, smooth=smooth, **kwargs)


@_register("focal_tversky", aliases=("focal_tversky_loss",))
class FocalTverskyLoss(_FunctionLoss):
    """(1 - Tversky index) ** gamma."""

    fn = staticmethod(focal_tversky_loss)

    def __init__(
        self, alpha=0.3, beta=0.7, gamma=0.75, smooth=1.0, name="focal_tversky", **kwargs
    ):
        super().__init__(
            name=name, alpha=alpha, beta=beta, gamma=gamma, smooth=smooth, **kwargs
        )


@_register("sparse_cce", aliases=("sparse_categorical_crossentropy",))
class SparseCategoricalCrossEntropy(_FunctionLoss):
    """Cross-entropy from sparse class indices, optional `class_weights`; ignores weight maps."""

    fn = staticmethod(sparse_cce)

    def __init__(self, class_weights=None, name="sparse_cce", **kwargs):
        super().__init__(name=name, class_weights=_as_list(class_weights), **kwargs)


@_register("categorical_cce", aliases=("categorical_crossentropy", "weighted_cce"))
class CategoricalCrossEntropy(_FunctionLoss):
    """Categorical cross-entropy with `class_weights` and the y_true weight map."""

    fn = staticmethod(weighted_cross_entropy)

    def __init__(self, class_weights=None, name="categorical_cce", **kwargs):
        super().__init__(name=name, class_weights=_as_list(class_weights), **kwargs)


@_register("basnet_hybrid", aliases=("hybrid", "basnet"))
class BASNetHybridLoss(_FunctionLoss):
    """BCE + SSIM + IoU hybrid loss of BASNet."""

    fn = staticmethod(basnet_hybrid_loss)

    def __init__(self, smooth=1.0, window_size=11, name="basnet_hybrid", **kwargs):
        super().__init__(name=name, smooth=smooth, window_size=window_size, **kwargs)


def _as_list(values):
    return None if values is None else [float(v) for v in values]


# ----------------------------------------------------------------------------------------------
# Factory
# ----------------------------------------------------------------------------------------------
def get_loss(name, **params):
    """Builds the loss named by a config string (canonical name or legacy alias).

    Args:
        name: registry key or alias, e.g. "bce_dice", "bce_dice_loss", "sparse_cce".
        **params: loss parameters (e.g. `class_weights=[1, 10]`, `gamma=2.0`). Parameters the
            loss does not take are rejected, so a misspelt option never passes silently.
            `None` values are dropped (the loss default applies).

    Returns:
        A `keras.losses.Loss` instance.

    Raises:
        UnknownNameError: unknown loss name (with a did-you-mean).
        ValueError: a parameter that this loss does not accept.
    """
    cls = LOSSES.get(name)
    params = {key: value for key, value in params.items() if value is not None}
    accepted = _accepted_params(cls)
    unknown = sorted(set(params) - accepted)
    if unknown:
        raise ValueError(
            f"Received parameter(s) {unknown} for loss '{name}', which accepts only "
            f"{sorted(accepted) or 'no parameters'}. To fix: remove them from the config "
            "or choose a loss that uses them."
        )
    return cls(**params)


def _accepted_params(cls):
    signature = inspect.signature(cls.__init__)
    return {
        key
        for key, p in signature.parameters.items()
        if key not in ("self", "name", "kwargs") and p.kind is not p.VAR_KEYWORD
    }


from dl_suite import losses_legacy  # noqa: E402,F401  (registers bce_iou and ssim)
