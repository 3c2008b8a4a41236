"""Where instance F1 is lost: each unmatched true object and each extra prediction, by cause.

A true object is matched when one predicted object overlaps it with IoU > `iou` (the F1@0.5
rule of `instance_scores`). Each unmatched true object gets one cause, tested in this order:

- "tiny": fewer than `tiny` pixels (specks and border slivers a minimum object size removes),
- "missed": predictions cover less than half of it,
- "merged": its best-overlapping prediction also covers at least `share` of another true object,
- "split": two or more predictions each cover at least `share` of it,
- "boundary": one prediction, but the outlines differ too much (IoU <= `iou`).

A predicted object that matches no true object and covers less than `share` of every true
object is "extra" (debris, or an object the annotation lacks).
"""

import numpy as np

CAUSES = ("matched", "tiny", "missed", "merged", "split", "boundary")


def _overlaps(pred, true):
    """Dense (n_true + 1, n_pred + 1) pixel counts of label pairs."""
    n_true, n_pred = int(true.max(initial=0)) + 1, int(pred.max(initial=0)) + 1
    joint = np.bincount(true.ravel().astype(np.int64) * n_pred + pred.ravel().astype(np.int64),
                        minlength=n_true * n_pred)
    return joint.reshape(n_true, n_pred)


def instance_errors(pred_labels, true_labels, *, iou=0.5, tiny=30, share=0.3):
    """Counts of true objects per cause (`CAUSES`) and of extra predicted objects.

    Args:
        pred_labels, true_labels: (H, W) integer label images, background 0.
        iou: the matching IoU (strictly above it matches).
        tiny: true objects smaller than this many pixels are "tiny" when unmatched.
        share: fraction of an object a prediction must cover to count for "merged" / "split".

    Returns:
        dict cause -> number of true objects, plus "extra" (predicted objects that belong to no
        true object) and "true" / "pred" (object counts).
    """
    pred, true = np.asarray(pred_labels), np.asarray(true_labels)
    if pred.shape != true.shape:
        raise ValueError(f"Received label images of shapes {pred.shape} and {true.shape}; "
                         "expected the same shape.")
    joint = _overlaps(pred, true)
    true_size, pred_size = joint.sum(1), joint.sum(0)
    union = true_size[:, None] + pred_size[None, :] - joint
    ious = np.where(union > 0, joint / np.maximum(union, 1), 0.0)
    ious[0, :] = ious[:, 0] = 0.0
    counts = dict.fromkeys(CAUSES, 0)
    true_ids = np.flatnonzero(true_size[1:]) + 1
    pred_ids = np.flatnonzero(pred_size[1:]) + 1
    for t in true_ids:
        cover = joint[t, 1:] / true_size[t]  # share of object t under each prediction
        if ious[t].max() > iou:
            cause = "matched"
        elif true_size[t] < tiny:
            cause = "tiny"
        elif cover.sum() < 0.5:
            cause = "missed"
        else:
            best = int(np.argmax(joint[t, 1:])) + 1
            others = joint[1:, best] / np.maximum(true_size[1:], 1)
            others[t - 1] = 0.0
            if others.max(initial=0.0) >= share:
                cause = "merged"
            elif (cover >= share).sum() >= 2:
                cause = "split"
            else:
                cause = "boundary"
        counts[cause] += 1
    matched_pred = (ious[1:, :] > iou).any(0)
    covers = (joint[1:, :] / np.maximum(true_size[1:, None], 1) >= share).any(0)
    counts["extra"] = int(sum(1 for p in pred_ids if not matched_pred[p] and not covers[p]))
    counts["true"], counts["pred"] = int(len(true_ids)), int(len(pred_ids))
    return counts
