"""Regions a training loss must not score ("ignore" masks, as nnU-Net's ignore label).

A user marks pixels whose annotation is wrong or missing (e.g. the findings of `dl-suite audit`)
in a separate mask; training then neither rewards nor punishes any prediction there.

In memory the ignored pixels ride inside the training mask, so that the augmentor moves them
with it (nearest neighbour): a mask value `v >= 0` is label `v`; `v < 0` is label `-v - 1`,
ignored. In the targets the loss sees, an ignored pixel holds `IGNORE_TARGET` (-1); the losses
and metrics of `dl_suite.losses` / `dl_suite.metrics` treat it as perfectly predicted, so it
adds nothing to the loss, its gradient or the metric counts.
"""

import numpy as np

IGNORE_TARGET = -1.0


def mark_ignored(mask, ignore):
    """The mask (H, W) as int32 with the pixels where `ignore` is true marked as ignored.

    Labels are kept (label `v` becomes `-v - 1`), so targets derived from the mask (contours,
    distances, weight maps) see the annotation as it was drawn.
    """
    mask = np.asarray(mask)
    ignore = np.asarray(ignore, dtype=bool)
    if ignore.shape != mask.shape:
        raise ValueError(f"Received an ignore mask of shape {ignore.shape} for a mask of shape "
                         f"{mask.shape}; they must be the same size.")
    labels, before = split_ignored(mask)  # a marked mask gets the union, never marked twice
    if before is not None:
        ignore = ignore | before
    marked = labels.astype(np.int32, copy=True)
    marked[ignore] = -marked[ignore] - 1
    return marked


def split_ignored(mask):
    """(labels, ignore) of a mask that may hold ignored pixels: labels with the marks removed
    (the mask itself when nothing is ignored) and a boolean array, or None when nothing is."""
    mask = np.asarray(mask)
    if mask.dtype.kind != "i" or not (mask < 0).any():
        return mask, None
    ignore = mask < 0
    return np.where(ignore, -mask - 1, mask), ignore


def apply_ignore_to_target(target, ignore):
    """The target (float32) with `IGNORE_TARGET` where `ignore` is true (None: unchanged)."""
    if ignore is None:
        return target
    target = np.asarray(target, dtype=np.float32).copy()
    target[ignore] = IGNORE_TARGET
    return target
