"""Losses the INI tool's configs name and `dl_suite.losses` did not have: BCE + IoU and SSIM.

Registered into `dl_suite.losses.LOSSES` (imported by the package), serializable,
`keras.ops` only. The INI tool's `jacard_loss` is the IoU loss (`iou`), `basnet_hybrid_loss`
is `basnet_hybrid`; `dl_suite.config.dialects` maps those names.
"""

from keras import ops

from dl_suite.losses.classes import FunctionLoss, register_loss
from dl_suite.losses.functions import bce, iou_loss, ssim_per_image
from dl_suite.losses.targets import scored_pixels, target_probabilities


def bce_iou_loss(y_true, y_pred, smooth=1.0):
    """BCE + (1 - soft IoU) per image: the INI tool's `bce_iou_loss`."""
    return bce(y_true, y_pred) + iou_loss(y_true, y_pred, smooth=smooth)


def ssim_loss(y_true, y_pred, window_size=11):
    """1 - SSIM per image (Gaussian window 11, sigma 1.5; one-hot target for several classes),
    over the windows without ignored pixels."""
    target, probs, _ = target_probabilities(y_true, y_pred)
    return 1.0 - ssim_per_image(ops.cast(target, probs.dtype), probs, window_size=window_size,
                                scored=scored_pixels(y_true))


@register_loss("bce_iou", aliases=("bce_iou_loss",))
class BCEIoULoss(FunctionLoss):
    """Binary cross-entropy + IoU loss."""

    fn = staticmethod(bce_iou_loss)

    def __init__(self, smooth=1.0, name="bce_iou", **kwargs):
        super().__init__(name=name, smooth=smooth, **kwargs)


@register_loss("ssim", aliases=("ssim_loss",))
class SSIMLoss(FunctionLoss):
    """Structural-similarity loss 1 - SSIM."""

    fn = staticmethod(ssim_loss)

    def __init__(self, window_size=11, name="ssim", **kwargs):
        super().__init__(name=name, window_size=window_size, **kwargs)
