"""Instance (object) scores: match predicted and true objects by IoU.

For each IoU threshold t, predicted and true objects are matched one-to-one by maximising the
total IoU over pairs with IoU >= t (Hungarian matching; for t >= 0.5 the match is unique anyway).
Then TP = matched pairs, FP = unmatched predictions, FN = unmatched true objects and
- precision = TP / (TP + FP), recall = TP / (TP + FN), F1 = 2 TP / (2 TP + FP + FN)
- AP = TP / (TP + FP + FN) (the "average precision" of the DSB 2018 / StarDist papers)
- PQ = SQ * RQ with SQ = mean IoU of matched pairs and RQ = F1 (Kirillov et al. 2019).
An image with no true and no predicted object scores 1.0 on all of them.
"""

import numpy as np
from scipy.optimize import linear_sum_assignment
from skimage import measure

from dl_suite.evaluation.pixel import binarize

DEFAULT_IOU_THRESHOLDS = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9)


def instance_labels(mask, min_size=0, connectivity=1):
    """Object labels from a binary mask: connected components, small ones removed.

    Args:
        mask: (H, W[, 1]) bool/0-1 mask (or probabilities already thresholded).
        min_size: objects with fewer pixels are dropped.
        connectivity: 1 = 4-neighbourhood (touching diagonals are separate), 2 = 8.

    Returns:
        int32 label image, background 0, objects 1..N.
    """
    mask = np.asarray(mask)
    if mask.ndim == 3 and mask.shape[-1] == 1:
        mask = mask[..., 0]
    mask = binarize(mask.astype(np.float32), 0.5, min_size)
    return measure.label(mask, connectivity=connectivity).astype(np.int32)


def true_objects(mask, connectivity=1, foreground_class=None):
    """The true objects of a mask: its own instance labels when it has them.

    Args:
        mask: (H, W[, 1]) mask as read: an instance label image (integer ids, more than two
            distinct values), a binary mask, or class indices of a multi-class mask.
        connectivity: for masks without instance ids, objects are connected components of
            the foreground (1 = edge neighbours, 2 = also corners).
        foreground_class: for multi-class masks, the class whose components are the objects
            (None = binary / instance masks).

    Returns:
        int32 label image, background 0. Touching objects with different ids stay separate.
    """
    mask = np.asarray(mask)
    if mask.ndim == 3 and mask.shape[-1] == 1:
        mask = mask[..., 0]
    if foreground_class is not None:
        return measure.label(mask == foreground_class, connectivity=connectivity).astype(np.int32)
    if np.issubdtype(mask.dtype, np.integer) and np.unique(mask).size > 2:
        return _relabel(mask)[0].astype(np.int32)
    return measure.label(mask > 0, connectivity=connectivity).astype(np.int32)


def _relabel(labels):
    labels = np.asarray(labels)
    if labels.ndim == 3 and labels.shape[-1] == 1:
        labels = labels[..., 0]
    values, inverse = np.unique(labels, return_inverse=True)
    if values[0] != 0:  # no background pixel: keep 0 reserved for background
        inverse = inverse + 1
        values = np.concatenate([[0], values])
    return inverse.reshape(labels.shape), len(values) - 1


def iou_matrix(pred_labels, true_labels):
    """IoU between every true (rows) and predicted (columns) object, (N_true, N_pred)."""
    pred, num_pred = _relabel(pred_labels)
    true, num_true = _relabel(true_labels)
    if pred.shape != true.shape:
        raise ValueError(
            f"Received predicted labels of shape {pred.shape} and true labels of shape "
            f"{true.shape}; expected the same shape."
        )
    joint = np.bincount(true.ravel() * (num_pred + 1) + pred.ravel(),
                        minlength=(num_true + 1) * (num_pred + 1))
    joint = joint.reshape(num_true + 1, num_pred + 1).astype(float)
    true_sizes = joint.sum(1, keepdims=True)
    pred_sizes = joint.sum(0, keepdims=True)
    union = true_sizes + pred_sizes - joint
    iou = np.divide(joint, union, out=np.zeros_like(joint), where=union > 0)
    return iou[1:, 1:]


def match_at(iou, threshold):
    """Matched (true_index, pred_index, iou) triples at one IoU threshold."""
    if iou.size == 0:
        return np.zeros((0,), int), np.zeros((0,), int), np.zeros((0,))
    valid = iou >= threshold
    rows, cols = linear_sum_assignment(np.where(valid, iou, 0.0), maximize=True)
    keep = valid[rows, cols]
    return rows[keep], cols[keep], iou[rows[keep], cols[keep]]


def _threshold_key(threshold):
    return f"{int(round(threshold * 100)):02d}"


def instance_scores(pred_labels, true_labels, thresholds=DEFAULT_IOU_THRESHOLDS):
    """Object scores of one image at each IoU threshold.

    Args:
        pred_labels: (H, W) predicted object labels (0 = background).
        true_labels: (H, W) true object labels.
        thresholds: IoU thresholds.

    Returns:
        dict with `n_true`, `n_pred`, per threshold `precision_50`, `recall_50`, `f1_50`,
        `ap_50`, ... (key = threshold * 100), `pq_50`, `sq_50` at each threshold, and
        `ap_mean` (AP averaged over the thresholds) and `pq` (PQ at 0.5, its usual
        definition, or at the lowest threshold given).
    """
    iou = iou_matrix(pred_labels, true_labels)
    num_true, num_pred = iou.shape
    scores = {"n_true": int(num_true), "n_pred": int(num_pred)}
    aps = []
    for threshold in thresholds:
        key = _threshold_key(threshold)
        _, _, matched = match_at(iou, threshold)
        tp = len(matched)
        fp, fn = num_pred - tp, num_true - tp
        if num_true == 0 and num_pred == 0:
            precision = recall = f1 = ap = sq = 1.0
        else:
            precision = tp / (tp + fp) if tp + fp else 0.0
            recall = tp / (tp + fn) if tp + fn else 0.0
            f1 = 2 * tp / (2 * tp + fp + fn)
            ap = tp / (tp + fp + fn)
            sq = float(matched.mean()) if tp else 0.0
        scores.update({f"precision_{key}": precision, f"recall_{key}": recall,
                       f"f1_{key}": f1, f"ap_{key}": ap, f"sq_{key}": sq,
                       f"pq_{key}": sq * f1})
        aps.append(ap)
    scores["ap_mean"] = float(np.mean(aps)) if aps else float("nan")
    base = 0.5 if 0.5 in thresholds else min(thresholds)
    scores["pq"] = scores[f"pq_{_threshold_key(base)}"]
    return scores
