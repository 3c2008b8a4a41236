"""How much of a foreground segmentation's error lies at the true outlines.

Where objects are small or separated by thin membranes (ISBI EM, nuclei), a disagreement of
one pixel about where each outline runs costs a large share of IoU and Dice, whoever draws
it. `boundary_counts` measures both sides of that: how many of a prediction's wrong pixels
lie within 1 or 2 px of a true outline, its IoU outside those bands, and what the truth
itself scores against a copy with every outline moved by one pixel (the price of a one-pixel
disagreement on these masks).

Counts are returned, not ratios, so images can be pooled by adding them (`boundary_summary`).
"""

import numpy as np
from scipy import ndimage as ndi

BANDS = (1, 2)


def _iou_counts(a, b):
    return int((a & b).sum()), int((a | b).sum())


def boundary_counts(pred, true, bands=BANDS, ignore=None):
    """Pixel counts of one image's foreground `pred` against `true` (boolean (H, W) arrays).

    `ignore` (boolean (H, W), optional) leaves its pixels out of every count, as `dl-suite
    evaluate` does with `eval.ignore_datapath`; distances to the outlines are still measured
    on the whole true mask.

    Returns:
        dict of integers: `intersection`, `union`, `false_positive`, `false_negative`; for each
        band b of `bands`: `errors_within_b` (wrong pixels at most b px from a true outline:
        Euclidean distance to the nearest pixel of the other side, so b = 1 is the pixel row on
        either side), `intersection_outside_b` and `union_outside_b` (IoU terms of the pixels
        farther away); and `thicker_*` / `thinner_*` intersection and union of the truth
        against itself with 1 px more / less background along every outline (the image border
        is not an outline).
    """
    pred, true = np.asarray(pred, bool), np.asarray(true, bool)
    if pred.shape != true.shape:
        raise ValueError(f"prediction {pred.shape} and truth {true.shape} differ in shape")
    scored = np.ones(true.shape, bool) if ignore is None else ~np.asarray(ignore, bool)
    if scored.shape != true.shape:
        raise ValueError(f"ignore mask {scored.shape} and truth {true.shape} differ in shape")
    distance = np.where(true, ndi.distance_transform_edt(true), ndi.distance_transform_edt(~true))
    thicker = ndi.binary_erosion(true, border_value=1) & scored
    thinner = ndi.binary_dilation(true) & scored
    pred, true = pred & scored, true & scored  # ignored pixels: background on both sides
    wrong = pred ^ true
    counts = dict(zip(("intersection", "union"), _iou_counts(pred, true)))
    counts.update(false_positive=int((pred & ~true).sum()), false_negative=int((~pred & true).sum()))
    for band in bands:
        far = distance > band
        counts[f"errors_within_{band}"] = int((wrong & ~far).sum())
        counts[f"intersection_outside_{band}"], counts[f"union_outside_{band}"] = _iou_counts(
            pred & far, true & far)
    counts["thicker_intersection"], counts["thicker_union"] = _iou_counts(thicker, true)
    counts["thinner_intersection"], counts["thinner_union"] = _iou_counts(thinner, true)
    return counts


def pooled(counts_list):
    """The sum of several images' `boundary_counts`."""
    total = {}
    for counts in counts_list:
        for key, value in counts.items():
            total[key] = total.get(key, 0) + value
    return total


def _ratio(a, b):
    return a / b if b else 1.0


def boundary_summary(counts, bands=BANDS):
    """Ratios of (pooled) `boundary_counts`: `iou`, `errors` (wrong pixels), for each band
    `share_within_b` (of the wrong pixels) and `iou_outside_b`, and `truth_iou_thicker` /
    `truth_iou_thinner` (the truth against its 1-px moved outlines)."""
    errors = counts["false_positive"] + counts["false_negative"]
    out = {"iou": _ratio(counts["intersection"], counts["union"]), "errors": errors}
    for band in bands:
        out[f"share_within_{band}"] = _ratio(counts[f"errors_within_{band}"], errors)
        out[f"iou_outside_{band}"] = _ratio(counts[f"intersection_outside_{band}"],
                                            counts[f"union_outside_{band}"])
    out["truth_iou_thicker"] = _ratio(counts["thicker_intersection"], counts["thicker_union"])
    out["truth_iou_thinner"] = _ratio(counts["thinner_intersection"], counts["thinner_union"])
    return out
