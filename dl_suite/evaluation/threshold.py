"""Threshold optimisation: the probability threshold and minimum object size that maximise a
metric on a validation set, stored in the run folder and reused at inference."""

import json
import logging
from pathlib import Path

import numpy as np

from dl_suite.evaluation.instance import instance_labels, instance_scores
from dl_suite.evaluation.isbi import cells_from_interior, rand_and_info
from dl_suite.evaluation.pixel import binarize, pixel_scores
from dl_suite.io import read_json, write_text

logger = logging.getLogger(__name__)

THRESHOLD_FILE = "threshold.json"
DEFAULT_THRESHOLDS = tuple(np.round(np.arange(0.05, 0.951, 0.05), 2))
PIXEL_METRICS = ("dice", "iou", "f1", "pixel_accuracy")
INSTANCE_METRICS = ("ap_50", "ap_mean", "pq", "f1_50")
ISBI_METRICS = ("v_rand", "v_info")
THRESHOLD_METRICS = PIXEL_METRICS + INSTANCE_METRICS + ISBI_METRICS


def score_at(prob, true, metric, threshold, min_size=0, connectivity=1):
    """One image's `metric` for a given threshold and minimum object size."""
    if metric in PIXEL_METRICS:
        return pixel_scores(prob, true, threshold, min_size)[metric]
    if metric in INSTANCE_METRICS:
        pred = instance_labels(binarize(prob, threshold, min_size), connectivity=connectivity)
        true_labels = instance_labels(np.asarray(true) > 0, connectivity=connectivity)
        return instance_scores(pred, true_labels, (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8,
                                                   0.85, 0.9))[metric]
    if metric in ISBI_METRICS:
        true = np.asarray(true)
        true = true[..., 0] if true.ndim == 3 else true
        true_labels = cells_from_interior(true > 0)
        pred = cells_from_interior(binarize(prob, threshold, min_size), grow_into_borders=True)
        v_rand, v_info = rand_and_info(true_labels, pred)
        return v_rand if metric == "v_rand" else v_info
    raise ValueError(
        f"Received `threshold_metric='{metric}'`, expected one of "
        f"{', '.join(THRESHOLD_METRICS)}. To fix: set eval.threshold_metric to one of them."
    )


def optimise_threshold(probs, trues, metric="dice", thresholds=None, min_sizes=(0,)):
    """Grid search for the (threshold, min_size) that maximises the mean `metric` over images.

    Args:
        probs: list of (H, W[, 1]) foreground probability maps (binary models).
        trues: list of true masks (0/1 or 0/255).
        metric: a name from `THRESHOLD_METRICS`.
        thresholds: thresholds to try (default 0.05, 0.10, ..., 0.95).
        min_sizes: minimum object sizes to try (pixels).

    Returns:
        dict: `threshold`, `min_size`, `metric`, `score` (best mean), `default_score` (at
        threshold 0.5 and the first min size, for comparison), `grid` (list of
        [threshold, min_size, mean score]).

    Raises:
        ValueError: unknown metric, empty input, or multi-class probabilities.
    """
    if metric not in THRESHOLD_METRICS:
        score_at(None, None, metric, 0.5)  # raises the helpful error
    if not len(probs) or len(probs) != len(trues):
        raise ValueError(
            f"Received {len(probs)} probability maps and {len(trues)} masks; expected the "
            "same, non-zero number."
        )
    if any(np.asarray(p).ndim == 3 and np.asarray(p).shape[-1] > 1 for p in probs):
        raise ValueError(
            "Received multi-class probabilities; threshold optimisation applies to binary "
            "(1-channel sigmoid) models only, multi-class models use argmax."
        )
    thresholds = DEFAULT_THRESHOLDS if thresholds is None else tuple(thresholds)
    min_sizes = tuple(min_sizes) if min_sizes else (0,)
    grid = []
    for min_size in min_sizes:
        for threshold in thresholds:
            scores = [score_at(p, t, metric, threshold, min_size) for p, t in zip(probs, trues)]
            grid.append([float(threshold), int(min_size), float(np.mean(scores))])
    best = max(grid, key=lambda row: row[2])
    default = [score_at(p, t, metric, 0.5, min_sizes[0]) for p, t in zip(probs, trues)]
    result = {"metric": metric, "threshold": best[0], "min_size": best[1], "score": best[2],
              "default_score": float(np.mean(default)), "grid": grid}
    logger.info("Best %s %.4f at threshold %.2f, min size %d (%.4f at 0.5).",
                metric, best[2], best[0], best[1], result["default_score"])
    return result


def save_threshold(run_dir, result):
    """Stores the optimisation result as `run_dir/threshold.json` (atomic)."""
    return write_text(Path(run_dir) / THRESHOLD_FILE, json.dumps(result, indent=1))


def load_threshold(run_dir, default=0.5):
    """(threshold, min_size) stored in the run, or (`default`, 0) if none was stored."""
    data = read_json(Path(run_dir) / THRESHOLD_FILE)
    if data is None:
        return float(default), 0
    return float(data["threshold"]), int(data.get("min_size", 0))
