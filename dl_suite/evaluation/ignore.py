"""Scoring around ignore masks: the pixels and objects an evaluation leaves out.

An ignore mask marks regions whose annotation is wrong or missing (`dl-suite audit
--write-ignore`, or drawn by hand). Pixel scores and the ISBI scores leave its pixels out. For
object scores:
- a true object with at least `IGNORE_OBJECT_FRACTION` of its pixels ignored is left out;
- so is a predicted object with at least that share ignored, or one that overlaps a left-out
  true object with IoU >= `IGNORE_MATCH_IOU` (it found an object that is not scored);
- the remaining objects are matched as usual, their IoU counting all their pixels.
"""

import numpy as np

IGNORE_OBJECT_FRACTION = 0.5
IGNORE_MATCH_IOU = 0.5


def _plane(array):
    array = np.asarray(array)
    return array[..., 0] if array.ndim == 3 else array


def ignored_objects(labels, ignore, fraction=IGNORE_OBJECT_FRACTION):
    """Ids (sorted array) of the objects of `labels` with at least `fraction` of their pixels
    inside `ignore`."""
    labels, ignore = _plane(labels).astype(np.int64), _plane(ignore).astype(bool)
    if labels.shape != ignore.shape:
        raise ValueError(f"Received labels of shape {labels.shape} and an ignore mask of shape "
                         f"{ignore.shape}; expected the same shape.")
    sizes = np.bincount(labels.ravel())
    inside = np.bincount(labels[ignore], minlength=sizes.size)
    ids = np.flatnonzero((sizes > 0) & (inside >= fraction * np.maximum(sizes, 1)))
    return ids[ids > 0]


def drop_ignored_objects(pred_labels, true_labels, ignore, fraction=IGNORE_OBJECT_FRACTION,
                         match_iou=IGNORE_MATCH_IOU):
    """The predicted and true labels without the objects the ignore mask leaves out (module
    docstring), and how many of each were left out.

    Returns:
        (pred_labels, true_labels, num_pred_dropped, num_true_dropped): label images with the
        dropped objects set to 0 (copies; the inputs are unchanged).
    """
    pred = _plane(pred_labels).astype(np.int64)
    true = _plane(true_labels).astype(np.int64)
    if pred.shape != true.shape:
        raise ValueError(f"Received predicted labels of shape {pred.shape} and true labels of "
                         f"shape {true.shape}; expected the same shape.")
    true_out = ignored_objects(true, ignore, fraction)
    pred_out = set(ignored_objects(pred, ignore, fraction).tolist())
    pred_sizes = np.bincount(pred.ravel())
    for object_id in true_out:
        inside = true == object_id
        overlapping, counts = np.unique(pred[inside], return_counts=True)
        for pred_id, count in zip(overlapping, counts):
            union = inside.sum() + pred_sizes[pred_id] - count
            if pred_id and count / union >= match_iou:
                pred_out.add(int(pred_id))
    pred_out = np.array(sorted(pred_out), dtype=np.int64)
    pred = np.where(np.isin(pred, pred_out), 0, pred)
    true = np.where(np.isin(true, true_out), 0, true)
    return pred, true, int(pred_out.size), int(true_out.size)
