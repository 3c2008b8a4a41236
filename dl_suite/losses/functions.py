"""Pure loss functions (`keras.ops` only), each returning one value per image, shape (B,).

Conventions: see `dl_suite.losses`.
"""

from keras import ops

from dl_suite.losses.targets import (
    class_weight_map, foreground_classes, num_classes_of, overlap_terms, per_image_mean,
    pixel_cross_entropy, scored_mean, scored_pixels, split_target, target_probabilities,
)


def bce(y_true, y_pred):
    """Cross-entropy averaged over pixels (binary, or categorical for C channels)."""
    target, probs, _ = target_probabilities(y_true, y_pred)
    return scored_mean(pixel_cross_entropy(target, probs), y_true)


def weighted_cross_entropy(y_true, y_pred, class_weights=None):
    """Cross-entropy times per-pixel weights, averaged over pixels.

    The weight of a pixel is the weight map (channel 2 of `y_true`, weight 1 if absent) times
    the class weight of its true class (1 if `class_weights` is None). The mean is over all
    scored pixels (not normalised by the weight sum), as in the U-Net paper's weighted loss.
    """
    target, probs, weights = target_probabilities(y_true, y_pred)
    pixel = pixel_cross_entropy(target, probs)
    if weights is not None:
        pixel = pixel * weights
    if class_weights is not None:
        pixel = pixel * class_weight_map(target, class_weights, probs.dtype)
    return scored_mean(pixel, y_true)


def sparse_cce(y_true, y_pred, class_weights=None):
    """Cross-entropy from sparse class indices, with optional class weights; ignores weight maps."""
    target, _ = split_target(y_true)
    return weighted_cross_entropy(target, y_pred, class_weights=class_weights)


def dice_loss(y_true, y_pred, smooth=1.0):
    """1 - soft Dice per image; multi-class averages the foreground classes 1..C-1."""
    target, probs, _ = target_probabilities(y_true, y_pred)
    tp, fp, fn = overlap_terms(target, probs)
    dice = (2.0 * tp + smooth) / (2.0 * tp + fp + fn + smooth)
    return 1.0 - ops.mean(foreground_classes(dice), axis=-1)


def iou_loss(y_true, y_pred, smooth=1.0):
    """1 - soft IoU (Jaccard) per image; multi-class averages the foreground classes."""
    target, probs, _ = target_probabilities(y_true, y_pred)
    tp, fp, fn = overlap_terms(target, probs)
    iou = (tp + smooth) / (tp + fp + fn + smooth)
    return 1.0 - ops.mean(foreground_classes(iou), axis=-1)


def tversky_index(y_true, y_pred, alpha=0.3, beta=0.7, smooth=1.0):
    """Tversky index TP / (TP + alpha FP + beta FN) per image and foreground class, (B, C')."""
    target, probs, _ = target_probabilities(y_true, y_pred)
    tp, fp, fn = overlap_terms(target, probs)
    return foreground_classes((tp + smooth) / (tp + alpha * fp + beta * fn + smooth))


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
    return scored_mean(pixel, y_true)


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
    channels = num_classes_of(y_pred)
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
        return per_image_mean(ssim)
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
