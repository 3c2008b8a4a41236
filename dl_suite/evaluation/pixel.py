"""Pixel-level scores of one image: Dice, IoU, accuracy, precision, recall, F1.

Conventions: a binary prediction is a probability map (H, W) or (H, W, 1) thresholded at
`threshold` (values already 0/1 pass through unchanged for any threshold in (0, 1]); a
multi-class prediction (H, W, C) is reduced by argmax and scored as the macro average over the
foreground classes 1..C-1. Empty-vs-empty is a perfect score (1.0): an image without foreground
where none is predicted gets Dice = IoU = precision = recall = F1 = 1.
"""

import numpy as np
from skimage import morphology

PIXEL_KEYS = ("dice", "iou", "pixel_accuracy", "precision", "recall", "f1")


def _squeeze(array):
    array = np.asarray(array)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    return array


def _check_shapes(pred, true):
    if pred.shape[:2] != true.shape[:2]:
        raise ValueError(
            f"Received a prediction of shape {pred.shape} and a mask of shape {true.shape}; "
            "expected the same height and width. To fix: check that images and masks are "
            "paired correctly and predicted at full size."
        )


def binarize(prob, threshold=0.5, min_size=0):
    """Foreground mask from a probability map; objects smaller than `min_size` pixels removed.

    Args:
        prob: (H, W) or (H, W, 1) probabilities (or an already binary mask).
        threshold: pixels with prob >= threshold are foreground.
        min_size: remove connected objects (8-connectivity) with fewer pixels; 0 keeps all.

    Returns:
        bool array (H, W).
    """
    mask = _squeeze(prob) >= threshold
    if min_size and min_size > 1:
        mask = remove_small(mask, int(min_size))
    return mask


def remove_small(mask, min_size, connectivity=2):
    """Removes connected objects of fewer than `min_size` pixels from a bool mask."""
    try:
        return morphology.remove_small_objects(mask, max_size=min_size - 1,
                                               connectivity=connectivity)
    except TypeError:  # scikit-image < 0.26 has no `max_size`
        return morphology.remove_small_objects(mask, min_size, connectivity=connectivity)


def hard_labels(pred, threshold=0.5, min_size=0):
    """(H, W) integer labels: binary via `binarize`, multi-class via argmax."""
    pred = np.asarray(pred)
    if pred.ndim == 3 and pred.shape[-1] > 1:
        return pred.argmax(-1)
    return binarize(pred, threshold, min_size).astype(np.int64)


def confusion(pred_labels, true_labels, num_classes=2):
    """Per-class TP, FP, FN, each (num_classes,), from hard label images."""
    pred_labels = np.asarray(pred_labels).ravel()
    true_labels = np.asarray(true_labels).ravel().astype(np.int64)
    joint = np.bincount(true_labels * num_classes + pred_labels,
                        minlength=num_classes * num_classes).reshape(num_classes, num_classes)
    tp = np.diag(joint).astype(float)
    return tp, joint.sum(0) - tp, joint.sum(1) - tp


def _div(numerator, denominator, empty):
    return np.where(denominator > 0, numerator / np.maximum(denominator, 1e-12), empty)


def pixel_scores(pred, true, threshold=0.5, min_size=0):
    """Pixel scores of one image.

    Args:
        pred: probabilities (H, W[, 1]) for binary, (H, W, C) softmax for multi-class, or a
            binary mask.
        true: the true mask (H, W[, 1]): 0/1, or class indices 0..C-1.
        threshold: probability threshold for binary predictions.
        min_size: small-object removal applied to binary predictions first.

    Returns:
        dict with `PIXEL_KEYS` (floats).
    """
    pred, true = np.asarray(pred), _squeeze(true)
    _check_shapes(pred, true)
    num_classes = pred.shape[-1] if pred.ndim == 3 and pred.shape[-1] > 1 else 2
    return label_scores(hard_labels(pred, threshold, min_size), true, num_classes)


def label_scores(pred_labels, true, num_classes=2, ignore=None):
    """Pixel scores of a hard prediction (a mask, or class indices for multi-class).

    Args:
        pred_labels: (H, W) bool/0-1 mask (`num_classes` 2) or class indices 0..C-1.
        true: (H, W[, 1]) true mask: foreground > 0 (2 classes) or class indices.
        num_classes: 2 for binary (foreground = any value > 0), else C.
        ignore: optional (H, W) bool: pixels left out of every score (an ignore mask).

    Returns:
        dict with `PIXEL_KEYS` (floats; multi-class: macro average over classes 1..C-1).

    Raises:
        ValueError: mismatched shapes or a class index >= num_classes.
    """
    labels, true = _squeeze(pred_labels).astype(np.int64), _squeeze(true)
    _check_shapes(labels, true)
    if ignore is not None:
        ignore = _squeeze(ignore).astype(bool)
        _check_shapes(ignore, true)
        labels, true = labels[~ignore], true[~ignore]
    true = (true > 0).astype(np.int64) if num_classes == 2 else true.astype(np.int64)
    if true.max(initial=0) >= num_classes:
        raise ValueError(
            f"Received a mask with class index {true.max()} for a {num_classes}-class "
            f"prediction; expected indices 0..{num_classes - 1}."
        )
    tp, fp, fn = (v[1:] for v in confusion(labels, true, num_classes))
    precision = _div(tp, tp + fp, (fn == 0).astype(float))
    recall = _div(tp, tp + fn, (fp == 0).astype(float))
    dice = _div(2 * tp, 2 * tp + fp + fn, 1.0)
    return {
        "dice": float(dice.mean()),
        "iou": float(_div(tp, tp + fp + fn, 1.0).mean()),
        "pixel_accuracy": float((labels == true).mean()) if true.size else 1.0,
        "precision": float(precision.mean()),
        "recall": float(recall.mean()),
        "f1": float(_div(2 * precision * recall, precision + recall, 0.0).mean()),
    }
