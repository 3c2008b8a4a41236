"""Metrics the INI tool's configs name and `dl_suite.metrics` did not have: specificity.

Registered into `dl_suite.metrics.METRICS` (imported at the end of that module). The INI tool's
`sensitivity` is `recall`, `jacard_similarity` and `iou_coef` are `iou`, `binary_accuracy` is
`pixel_accuracy`; `dl_suite.config.dialects` maps those names.
"""

from keras import ops

from dl_suite.metrics import _foreground_mean, _FunctionMetric, _ratio, _register, confusion_counts


def specificity(y_true, y_pred, threshold=0.5):
    """TN / (TN + FP) per image and foreground class (averaged); 1 when no pixel is negative."""
    tp, fp, fn = confusion_counts(y_true, y_pred, threshold)
    y_pred = ops.convert_to_tensor(y_pred)
    pixels = ops.cast(y_pred.shape[1] * y_pred.shape[2], tp.dtype)
    tn = pixels - tp - fp - fn
    return _foreground_mean(_ratio(tn, tn + fp))


@_register("specificity", aliases=("true_negative_rate",))
class Specificity(_FunctionMetric):
    """Per-image specificity (true-negative rate) of the thresholded prediction."""

    fn = staticmethod(specificity)

    def __init__(self, threshold=0.5, name="specificity", **kwargs):
        super().__init__(name=name, threshold=threshold, **kwargs)
