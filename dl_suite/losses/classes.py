"""Serializable `keras.losses.Loss` classes (thin wrappers of `dl_suite.losses.functions`), the
LOSSES registry keyed by config names, and `get_loss`."""

import inspect

import keras

from dl_suite.losses.functions import (
    basnet_hybrid_loss, bce, bce_dice_loss, dice_loss, focal_loss, focal_tversky_loss, iou_loss,
    sparse_cce, tversky_loss, weighted_bce_dice_loss, weighted_cross_entropy,
)
from dl_suite.registry import Registry

LOSSES = Registry("loss")


class FunctionLoss(keras.losses.Loss):
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


def register_loss(name, aliases=()):
    """Class decorator: Keras-serializable as `dl_suite>ClassName`, in LOSSES as `name`."""

    def decorator(cls):
        cls = keras.saving.register_keras_serializable(package="dl_suite")(cls)
        return LOSSES.register(name, aliases=aliases)(cls)

    return decorator


@register_loss("bce", aliases=("binary_crossentropy", "binary_cross_entropy"))
class BinaryCrossEntropy(FunctionLoss):
    """Pixel-wise cross-entropy; ignores the weight-map channel."""

    fn = staticmethod(bce)

    def __init__(self, name="bce", **kwargs):
        super().__init__(name=name, **kwargs)


@register_loss("weighted_bce")
class WeightedBinaryCrossEntropy(FunctionLoss):
    """Cross-entropy weighted by the y_true weight map and/or `class_weights`."""

    fn = staticmethod(weighted_cross_entropy)

    def __init__(self, class_weights=None, name="weighted_bce", **kwargs):
        super().__init__(name=name, class_weights=as_float_list(class_weights), **kwargs)


@register_loss("dice", aliases=("dice_loss",))
class DiceLoss(FunctionLoss):
    """1 - soft Dice per image."""

    fn = staticmethod(dice_loss)

    def __init__(self, smooth=1.0, name="dice", **kwargs):
        super().__init__(name=name, smooth=smooth, **kwargs)


@register_loss("bce_dice", aliases=("bce_dice_loss",))
class BCEDiceLoss(FunctionLoss):
    """BCE + Dice loss."""

    fn = staticmethod(bce_dice_loss)

    def __init__(self, bce_weight=1.0, dice_weight=1.0, smooth=1.0, name="bce_dice", **kwargs):
        super().__init__(
            name=name, bce_weight=bce_weight, dice_weight=dice_weight, smooth=smooth, **kwargs
        )


@register_loss("weighted_bce_dice", aliases=("weighted_bce_dice_loss",))
class WeightedBCEDiceLoss(FunctionLoss):
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
            class_weights=as_float_list(class_weights),
            bce_weight=bce_weight,
            dice_weight=dice_weight,
            smooth=smooth,
            **kwargs,
        )


@register_loss("iou", aliases=("jaccard", "iou_loss", "jaccard_loss"))
class IoULoss(FunctionLoss):
    """1 - soft IoU (Jaccard) per image."""

    fn = staticmethod(iou_loss)

    def __init__(self, smooth=1.0, name="iou", **kwargs):
        super().__init__(name=name, smooth=smooth, **kwargs)


@register_loss("focal", aliases=("focal_loss",))
class FocalLoss(FunctionLoss):
    """Focal loss with `gamma` (focusing) and `alpha` (foreground balance)."""

    fn = staticmethod(focal_loss)

    def __init__(self, gamma=2.0, alpha=0.25, name="focal", **kwargs):
        super().__init__(name=name, gamma=gamma, alpha=alpha, **kwargs)


@register_loss("tversky", aliases=("tversky_loss",))
class TverskyLoss(FunctionLoss):
    """1 - Tversky index; `alpha` weights false positives, `beta` false negatives."""

    fn = staticmethod(tversky_loss)

    def __init__(self, alpha=0.3, beta=0.7, smooth=1.0, name="tversky", **kwargs):
        super().__init__(name=name, alpha=alpha, beta=beta, smooth=smooth, **kwargs)


@register_loss("focal_tversky", aliases=("focal_tversky_loss",))
class FocalTverskyLoss(FunctionLoss):
    """(1 - Tversky index) ** gamma."""

    fn = staticmethod(focal_tversky_loss)

    def __init__(
        self, alpha=0.3, beta=0.7, gamma=0.75, smooth=1.0, name="focal_tversky", **kwargs
    ):
        super().__init__(
            name=name, alpha=alpha, beta=beta, gamma=gamma, smooth=smooth, **kwargs
        )


@register_loss("sparse_cce", aliases=("sparse_categorical_crossentropy",))
class SparseCategoricalCrossEntropy(FunctionLoss):
    """Cross-entropy from sparse class indices, optional `class_weights`; ignores weight maps."""

    fn = staticmethod(sparse_cce)

    def __init__(self, class_weights=None, name="sparse_cce", **kwargs):
        super().__init__(name=name, class_weights=as_float_list(class_weights), **kwargs)


@register_loss("categorical_cce", aliases=("categorical_crossentropy", "weighted_cce"))
class CategoricalCrossEntropy(FunctionLoss):
    """Categorical cross-entropy with `class_weights` and the y_true weight map."""

    fn = staticmethod(weighted_cross_entropy)

    def __init__(self, class_weights=None, name="categorical_cce", **kwargs):
        super().__init__(name=name, class_weights=as_float_list(class_weights), **kwargs)


@register_loss("basnet_hybrid", aliases=("hybrid", "basnet"))
class BASNetHybridLoss(FunctionLoss):
    """BCE + SSIM + IoU hybrid loss of BASNet."""

    fn = staticmethod(basnet_hybrid_loss)

    def __init__(self, smooth=1.0, window_size=11, name="basnet_hybrid", **kwargs):
        super().__init__(name=name, smooth=smooth, window_size=window_size, **kwargs)


def as_float_list(values):
    return None if values is None else [float(v) for v in values]


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
    accepted = accepted_params(cls)
    unknown = sorted(set(params) - accepted)
    if unknown:
        raise ValueError(
            f"Received parameter(s) {unknown} for loss '{name}', which accepts only "
            f"{sorted(accepted) or 'no parameters'}. To fix: remove them from the config "
            "or choose a loss that uses them."
        )
    return cls(**params)


def accepted_params(cls):
    signature = inspect.signature(cls.__init__)
    return {
        key
        for key, p in signature.parameters.items()
        if key not in ("self", "name", "kwargs") and p.kind is not p.VAR_KEYWORD
    }
