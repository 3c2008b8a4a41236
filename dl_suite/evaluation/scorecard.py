"""The evaluation scorecard: per-image rows and a summary from predictions and masks."""

import numpy as np

from dl_suite.evaluation.instance import DEFAULT_IOU_THRESHOLDS, instance_labels, instance_scores
from dl_suite.evaluation.isbi import DEFAULT_ISBI_THRESHOLDS, isbi_scores
from dl_suite.evaluation.pixel import binarize, hard_labels, pixel_scores

SCORE_FAMILIES = ("pixel", "instance", "isbi")


def _foreground(prob, threshold, min_size):
    prob = np.asarray(prob)
    if prob.ndim == 3 and prob.shape[-1] > 1:
        return hard_labels(prob) > 0
    return binarize(prob, threshold, min_size)


def evaluate_images(
    probs,
    trues,
    names=None,
    *,
    threshold=0.5,
    min_size=0,
    scores=("pixel", "instance"),
    iou_thresholds=DEFAULT_IOU_THRESHOLDS,
    isbi_thresholds=DEFAULT_ISBI_THRESHOLDS,
    connectivity=1,
    true_labels=None,
):
    """Scores every image and summarises.

    Args:
        probs: list of predictions: (H, W[, 1]) probabilities or (H, W, C) softmax.
        trues: list of true masks (0/1 or class indices; 0/255 ISBI labels are fine).
        names: image names for the rows (default image_000, ...).
        threshold, min_size: how binary probabilities become masks.
        scores: families from `SCORE_FAMILIES` ("isbi" needs binary EM membrane masks).
        iou_thresholds: instance-matching IoU thresholds.
        isbi_thresholds: probability thresholds over which V_Rand / V_Info are maximised.
        connectivity: object connectivity for connected components (1 or 2).
        true_labels: optional list of true instance label images (else connected
            components of the true masks; touching objects then merge).

    Returns:
        (rows, summary): rows is a list of dicts (one per image, key `image` first);
        summary has `num_images`, `threshold`, `min_size`, `mean` (per numeric column) and,
        with "isbi", `isbi` (dataset-level maxima of the mean V_Rand / V_Info curves).

    Raises:
        ValueError: unknown score family or mismatched inputs.
    """
    unknown = sorted(set(scores) - set(SCORE_FAMILIES))
    if unknown:
        raise ValueError(
            f"Received eval.scores {unknown}; expected any of {', '.join(SCORE_FAMILIES)}."
        )
    if len(probs) != len(trues):
        raise ValueError(f"Received {len(probs)} predictions and {len(trues)} masks; "
                         "expected one prediction per mask.")
    names = list(names) if names is not None else [f"image_{i:03d}" for i in range(len(probs))]
    rows, rand_curves, info_curves = [], [], []
    for index, (prob, true) in enumerate(zip(probs, trues)):
        true = np.asarray(true)
        true = true[..., 0] if true.ndim == 3 else true
        row = {"image": str(names[index])}
        if "pixel" in scores:
            row.update(pixel_scores(prob, true, threshold, min_size))
        if "instance" in scores:
            pred = instance_labels(_foreground(prob, threshold, min_size),
                                   connectivity=connectivity)
            reference = (true_labels[index] if true_labels is not None
                         else instance_labels(true > 0, connectivity=connectivity))
            row.update(instance_scores(pred, reference, iou_thresholds))
        if "isbi" in scores:
            isbi = isbi_scores(prob, true, isbi_thresholds)
            rand_curves.append(isbi.pop("v_rand_curve"))
            info_curves.append(isbi.pop("v_info_curve"))
            row.update(isbi)
        rows.append(row)
    summary = {
        "num_images": len(rows),
        "threshold": float(threshold),
        "min_size": int(min_size),
        "mean": mean_row(rows),
    }
    if rand_curves:
        rand, info = np.mean(rand_curves, 0), np.mean(info_curves, 0)
        summary["isbi"] = {
            "v_rand": float(rand.max()), "v_rand_threshold": float(isbi_thresholds[rand.argmax()]),
            "v_info": float(info.max()), "v_info_threshold": float(isbi_thresholds[info.argmax()]),
            "thresholds": [float(t) for t in isbi_thresholds],
            "v_rand_curve": rand.tolist(), "v_info_curve": info.tolist(),
        }
    return rows, summary


def mean_row(rows):
    """Mean of every numeric column over the rows (NaN-safe)."""
    keys = [k for k in (rows[0] if rows else {}) if k not in ("image", "video", "frame")]
    return {
        key: float(np.nanmean([row[key] for row in rows if row.get(key) is not None]))
        for key in keys
        if all(isinstance(row.get(key), (int, float, np.number)) for row in rows)
    }
