"""Training metrics for segmentation, computed per image and averaged over images.

Conventions (see `dl_suite.losses`): `y_pred` is (B, H, W, 1) sigmoid or (B, H, W, C) softmax;
`y_true` is (B, H, W, 1) target, optionally with a weight-map channel that metrics ignore.
Pixels whose target is -1 (ignored, `dl_suite.data.ignore`) count in no class.

Predictions are made hard first: sigmoid outputs at `threshold` (default 0.5), softmax outputs by
argmax. A binary output is treated as two classes (0 background, 1 foreground). Each metric is
computed per image; a `keras.metrics.Mean` then averages over every image seen in the epoch, so
small and large objects count alike (no batch-global pixel sums).

Empty-vs-empty is a perfect score: an image where a class is absent in both the truth and the
prediction scores 1.0 for Dice, IoU, precision and recall of that class. Multi-class Dice, IoU,
precision and recall are macro averages over the foreground classes 1..C-1.
"""

import keras
from keras import ops

from dl_suite.losses import split_target
from dl_suite.registry import Registry

METRICS = Registry("metric")


# ----------------------------------------------------------------------------------------------
# Pure per-image functions, each returning (B,)
# ----------------------------------------------------------------------------------------------
def hard_one_hot(y_true, y_pred, threshold=0.5):
    """One-hot truth and hard prediction, (B, H, W, K) with K = 2 for binary outputs."""
    target, _ = split_target(y_true)
    y_pred = ops.convert_to_tensor(y_pred)
    num_classes = y_pred.shape[-1]
    if num_classes == 1:
        labels_pred = ops.cast(y_pred[..., 0] >= threshold, "int32")
        num_classes = 2
    else:
        labels_pred = ops.argmax(y_pred, axis=-1)
    target = ops.cast(target, "float32")
    scored = 1.0 - ops.cast(target < 0, "float32")  # ignored (-1): in no class; NaN stays
    labels_true = ops.cast(ops.round(ops.maximum(target[..., 0], 0.0)), "int32")
    true = ops.one_hot(labels_true, num_classes, dtype="float32") * scored
    pred = ops.one_hot(labels_pred, num_classes, dtype="float32") * scored
    return true, pred


def confusion_counts(y_true, y_pred, threshold=0.5):
    """Per-image, per-class TP, FP, FN, each (B, K)."""
    true, pred = hard_one_hot(y_true, y_pred, threshold)
    axes = tuple(range(1, len(true.shape) - 1))  # H, W (and T for video targets)
    tp = ops.sum(true * pred, axis=axes)
    fp = ops.sum((1.0 - true) * pred, axis=axes)
    fn = ops.sum(true * (1.0 - pred), axis=axes)
    return tp, fp, fn


def _ratio(numerator, denominator, empty=1.0):
    """numerator / denominator, `empty` where the denominator is 0."""
    safe = ops.where(denominator > 0, denominator, ops.ones_like(denominator))
    return ops.where(denominator > 0, numerator / safe, empty * ops.ones_like(denominator))


def _foreground_mean(values):
    return ops.mean(values[:, 1:], axis=-1)


def dice_coef(y_true, y_pred, threshold=0.5):
    """Dice = 2 TP / (2 TP + FP + FN) per image (foreground classes averaged)."""
    tp, fp, fn = confusion_counts(y_true, y_pred, threshold)
    return _foreground_mean(_ratio(2.0 * tp, 2.0 * tp + fp + fn))


def iou(y_true, y_pred, threshold=0.5):
    """IoU (Jaccard) = TP / (TP + FP + FN) per image (foreground classes averaged)."""
    tp, fp, fn = confusion_counts(y_true, y_pred, threshold)
    return _foreground_mean(_ratio(tp, tp + fp + fn))


def class_iou(y_true, y_pred, class_id=1, threshold=0.5):
    """IoU of one class per image (binary outputs: 0 background, 1 foreground)."""
    tp, fp, fn = confusion_counts(y_true, y_pred, threshold)
    return _ratio(tp, tp + fp + fn)[:, class_id]


def precision(y_true, y_pred, threshold=0.5):
    """TP / (TP + FP) per image; 1 when nothing is predicted and nothing is there, else 0."""
    tp, fp, fn = confusion_counts(y_true, y_pred, threshold)
    empty = ops.cast(fn == 0, "float32")
    safe = ops.where(tp + fp > 0, tp + fp, ops.ones_like(tp))
    return _foreground_mean(ops.where(tp + fp > 0, tp / safe, empty))


def recall(y_true, y_pred, threshold=0.5):
    """TP / (TP + FN) per image; 1 when nothing is there and nothing is predicted, else 0."""
    tp, fp, fn = confusion_counts(y_true, y_pred, threshold)
    empty = ops.cast(fp == 0, "float32")
    safe = ops.where(tp + fn > 0, tp + fn, ops.ones_like(tp))
    return _foreground_mean(ops.where(tp + fn > 0, tp / safe, empty))


def pixel_accuracy(y_true, y_pred, threshold=0.5):
    """Fraction of the (not ignored) pixels whose hard prediction equals the truth, per image."""
    true, pred = hard_one_hot(y_true, y_pred, threshold)
    axes = tuple(range(1, len(true.shape) - 1))
    correct = ops.sum(ops.sum(true * pred, axis=-1), axis=axes)
    return _ratio(correct, ops.sum(ops.sum(true, axis=-1), axis=axes))


# ----------------------------------------------------------------------------------------------
# Metric classes
# ----------------------------------------------------------------------------------------------
class _FunctionMetric(keras.metrics.MeanMetricWrapper):
    """Mean over images of `fn(y_true, y_pred, **params)`; subclasses fix `fn`."""

    fn = None

    def __init__(self, name, dtype=None, **params):
        super().__init__(fn=type(self).fn, name=name, dtype=dtype, **params)
        self._params = params
        for key, value in params.items():
            setattr(self, key, value)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, **self._params}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _register(name, aliases=()):
    def decorator(cls):
        cls = keras.saving.register_keras_serializable(package="dl_suite")(cls)
        return METRICS.register(name, aliases=aliases)(cls)

    return decorator


@_register("dice_coef", aliases=("dice", "dice_score", "f1_score"))
class DiceCoefficient(_FunctionMetric):
    """Per-image Dice coefficient of the thresholded prediction."""

    fn = staticmethod(dice_coef)

    def __init__(self, threshold=0.5, name="dice_coef", **kwargs):
        super().__init__(name=name, threshold=threshold, **kwargs)


@_register("iou", aliases=("jaccard", "iou_score", "mean_iou"))
class IoU(_FunctionMetric):
    """Per-image IoU (Jaccard) of the thresholded prediction."""

    fn = staticmethod(iou)

    def __init__(self, threshold=0.5, name="iou", **kwargs):
        super().__init__(name=name, threshold=threshold, **kwargs)


@_register("class_iou")
class ClassIoU(_FunctionMetric):
    """Per-image IoU of class `class_id`; `per_class_iou` in a config makes one per class."""

    fn = staticmethod(class_iou)

    def __init__(self, class_id=1, threshold=0.5, name=None, **kwargs):
        super().__init__(
            name=name or f"iou_class_{class_id}", class_id=class_id, threshold=threshold, **kwargs
        )


@_register("pixel_accuracy", aliases=("accuracy", "binary_accuracy", "acc",
                                       "sparse_categorical_accuracy", "categorical_accuracy"))
class PixelAccuracy(_FunctionMetric):
    """Per-image pixel accuracy (threshold for sigmoid, argmax for softmax outputs)."""

    fn = staticmethod(pixel_accuracy)

    def __init__(self, threshold=0.5, name="pixel_accuracy", **kwargs):
        super().__init__(name=name, threshold=threshold, **kwargs)


@_register("precision")
class Precision(_FunctionMetric):
    """Per-image foreground precision."""

    fn = staticmethod(precision)

    def __init__(self, threshold=0.5, name="precision", **kwargs):
        super().__init__(name=name, threshold=threshold, **kwargs)


@_register("recall", aliases=("sensitivity",))
class Recall(_FunctionMetric):
    """Per-image foreground recall."""

    fn = staticmethod(recall)

    def __init__(self, threshold=0.5, name="recall", **kwargs):
        super().__init__(name=name, threshold=threshold, **kwargs)


# ----------------------------------------------------------------------------------------------
# Factories
# ----------------------------------------------------------------------------------------------
PER_CLASS_NAMES = ("per_class_iou", "class_ious", "iou_per_class")


def get_metric(name, num_classes=1, threshold=0.5, **params):
    """Builds one metric from a config string (canonical name or legacy alias).

    The metric keeps the name the config used, so a legacy `binary_accuracy` still appears as
    `binary_accuracy` / `val_binary_accuracy` in the history and in monitors.

    Args:
        name: e.g. "dice_coef", "iou", "binary_accuracy", "accuracy", "precision".
        num_classes: model output channels (1 = sigmoid); checked against `class_id`.
        threshold: probability threshold for sigmoid outputs.
        **params: e.g. `class_id` for "class_iou".

    Returns:
        A `keras.metrics.Metric`.

    Raises:
        UnknownNameError: unknown metric name (with a did-you-mean).
        ValueError: `class_id` outside the classes of the model.
    """
    cls = METRICS.get(name)
    if cls is ClassIoU:
        num_labels = max(2, int(num_classes))
        class_id = int(params.get("class_id", 1))
        if not 0 <= class_id < num_labels:
            raise ValueError(
                f"Received `class_id={class_id}` for a model with {num_classes} output "
                f"channel(s); expected 0..{num_labels - 1}."
            )
        others = {k: v for k, v in params.items() if k != "class_id"}
        return ClassIoU(class_id=class_id, threshold=threshold, **others)
    metric_name = name if name != METRICS.canonical(name) else None
    kwargs = dict(params, threshold=threshold)
    if metric_name:
        kwargs["name"] = metric_name
    return cls(**kwargs)


def get_metrics(names, num_classes=1, threshold=0.5):
    """Builds the metric list for `model.compile` from the config's metric names.

    `per_class_iou` expands to one `iou_class_<k>` metric per class (0 and 1 for binary).
    Names starting with `val_` (legacy INI plot lists such as `val_dice_coef`) are skipped, as
    Keras adds validation metrics itself; duplicates are dropped.

    Args:
        names: a string or a list of strings.
        num_classes: model output channels.
        threshold: probability threshold for sigmoid outputs.

    Returns:
        list of `keras.metrics.Metric`.
    """
    if isinstance(names, str):
        names = [names]
    metrics, seen = [], set()
    for name in names or ():
        if name.startswith("val_") and name[4:] in METRICS:
            continue
        if name in seen:
            continue
        seen.add(name)
        if name in PER_CLASS_NAMES:
            for class_id in range(max(2, int(num_classes))):
                metrics.append(ClassIoU(class_id=class_id, threshold=threshold))
        else:
            metrics.append(get_metric(name, num_classes=num_classes, threshold=threshold))
    return metrics

from dl_suite import metrics_legacy  # noqa: E402,F401  (registers specificity)
