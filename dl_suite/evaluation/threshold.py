"""Threshold optimisation: the probability threshold and minimum object size that maximise a
metric on a validation set, stored in the run folder and reused at inference."""

import json
import logging
from pathlib import Path

import numpy as np

from dl_suite.evaluation.ignore import drop_ignored_objects
from dl_suite.evaluation.instance import instance_labels, instance_scores, true_objects
from dl_suite.evaluation.isbi import LOWER_OF, isbi_scores, pooled_isbi_score
from dl_suite.evaluation.pixel import label_scores
from dl_suite.errors import DataError
from dl_suite.io import keep_copy, read_json, write_text

logger = logging.getLogger(__name__)

THRESHOLD_FILE = "threshold.json"
EARLIER_THRESHOLDS = "earlier_thresholds"  # earlier threshold.json files of a run, kept
DEFAULT_THRESHOLDS = tuple(np.round(np.arange(0.05, 0.951, 0.05), 2))
DEFAULT_TOLERANCE = 0.01  # validation scores this close to the best count as tied
DEFAULT_THRESHOLD = 0.5  # equally good plateaus: the one nearest this wins
MIN_PLATEAU = 3  # ties only in shorter runs of thresholds: isolated peaks, the tolerance widens
MAX_WIDENING = 2  # ... up to this many times the configured tolerance
PIXEL_METRICS = ("dice", "iou", "f1", "pixel_accuracy")
INSTANCE_METRICS = ("ap_50", "ap_mean", "pq", "f1_50")
ISBI_METRICS = ("v_rand", "v_info", "v_rand_cc", "v_rand_both")
THRESHOLD_METRICS = PIXEL_METRICS + INSTANCE_METRICS + ISBI_METRICS


def _default_segment(prob, threshold, min_size):
    """Fixed-threshold post-processing with the `PostprocessOptions` defaults."""
    from dl_suite.inference.postprocess import PostprocessOptions, postprocess

    options = PostprocessOptions(threshold_method="fixed", threshold=float(threshold),
                                 min_size=int(min_size))
    _, _, mask, labels = postprocess(prob, options)
    return mask, labels


def score_at(mask, labels, true, metric, true_labels=None, connectivity=1, ignore=None):
    """One image's `metric` for a predicted mask and labels (as `infer` writes them).

    Args:
        mask: (H, W) bool predicted foreground.
        labels: (H, W) predicted instance labels (None = connected components of `mask`).
        true: the true mask (foreground > 0).
        metric: a name from `THRESHOLD_METRICS`.
        true_labels: true instance labels (None = `true_objects(true)`).
        ignore: optional (H, W) bool ignore mask: pixels and objects not scored, as
            `evaluate_images` leaves them out.
    """
    if metric in PIXEL_METRICS:
        return label_scores(mask, true, ignore=ignore)[metric]
    if metric in INSTANCE_METRICS:
        pred = labels if labels is not None else instance_labels(mask, connectivity=2)
        reference = true_labels if true_labels is not None else true_objects(true, connectivity)
        if ignore is not None:
            pred, reference, _, _ = drop_ignored_objects(pred, reference, ignore)
        return instance_scores(pred, reference)[metric]
    if metric in ISBI_METRICS:
        scores = isbi_scores(mask, true, ignore)
        if metric in LOWER_OF:  # e.g. v_rand_both: the lower of V_Rand and the harsher reading
            return min(scores[name] for name in LOWER_OF[metric])
        return scores[metric]
    raise ValueError(
        f"Received `threshold_metric='{metric}'`, expected one of "
        f"{', '.join(THRESHOLD_METRICS)}. To fix: set eval.threshold_metric to one of them."
    )


def _tied_runs(grid, tolerance):
    """Runs of consecutive tied thresholds (grid indices) at one minimum size (and split value),
    and how many rows lie within `tolerance` of the best score."""
    top = max(row[2] for row in grid)
    runs, tied = [], 0
    for i, row in enumerate(grid):
        if row[2] < top - tolerance:
            continue
        tied += 1
        if (runs and runs[-1][-1] == i - 1 and grid[i - 1][1] == row[1]
                and grid[i - 1][3:] == row[3:]):
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs, tied


def plateau_tolerance(grid, tolerance):
    """The tolerance `best_grid_row` ties with: `tolerance`, unless every run of tied thresholds
    is shorter than `MIN_PLATEAU` (isolated peaks: no plateau among the ties). Then it widens to
    the next lower score of the grid, step by step, at most to `MAX_WIDENING` x `tolerance`,
    until a run of `MIN_PLATEAU` ties; none by then: `tolerance`. Exact ties (`tolerance` at
    most 1e-6) never widen."""
    if tolerance <= 1e-6 or max(map(len, _tied_runs(grid, tolerance)[0])) >= MIN_PLATEAU:
        return tolerance
    top = max(row[2] for row in grid)
    for score in sorted({row[2] for row in grid if row[2] < top - tolerance}, reverse=True):
        wider = top - score + 1e-12
        if wider > MAX_WIDENING * tolerance:
            break
        if max(map(len, _tied_runs(grid, wider)[0])) >= MIN_PLATEAU:
            return wider
    return tolerance


def best_grid_row(grid, tolerance=1e-9):
    """The best [threshold, min_size, score(, split value)] row of a grid, and how many rows
    tie with it.

    A few validation images cannot rank thresholds whose scores differ by one object (F1 on
    about 30 nuclei) or by a thousandth of V_Rand: such rows count as tied. Among tied rows
    the choice is the middle of the widest plateau (a run of consecutive tied thresholds at
    one minimum size), where a small shift of the probabilities changes little, not a narrow
    peak or a plateau's edge next to a drop. Equally wide plateaus: the one whose middle is
    nearest `DEFAULT_THRESHOLD`, the threshold of calibrated probabilities (the validation
    images cannot tell them apart; DeepCell seed 13 otherwise took 0.10 over 0.75), then the
    first (smallest minimum size); an even plateau: its lower middle. Rows with a fourth value
    (the split parameter) form plateaus only with rows of the same value. When the ties are
    only isolated peaks (no run of `MIN_PLATEAU` thresholds), the tolerance widens up to
    twice (`plateau_tolerance`; an Attention U-Net's two validation images otherwise took
    0.05, a one-point peak at the grid's edge, over a plateau 0.20-0.60 one nucleus lower).

    Args:
        grid: list of [threshold, min_size, score(, split value)], thresholds ascending within a
            min size (and split value).
        tolerance: scores within `tolerance` of the best count as tied (1e-9: exact ties only).

    Returns:
        (row, number of rows within the tolerance used of the best score)
    """
    plateaus, tied = _tied_runs(grid, plateau_tolerance(grid, tolerance))
    middles = [plateau[(len(plateau) - 1) // 2] for plateau in plateaus]
    width = max(len(plateau) for plateau in plateaus)
    chosen = min((middle for middle, plateau in zip(middles, plateaus) if len(plateau) == width),
                 key=lambda i: round(abs(grid[i][0] - DEFAULT_THRESHOLD), 9))  # the first of equals
    return grid[chosen], tied


def optimise_threshold(probs, trues, metric="dice", thresholds=None, min_sizes=(0,), *,
                       segment=None, true_labels=None, connectivity=1, names=None,
                       tolerance=DEFAULT_TOLERANCE, split_values=(), ignores=None):
    """Grid search for the (threshold, min_size) that maximises `metric` over the images: the
    mean over images, except the ISBI metrics, pooled over images as `evaluate` reports them.

    Only pass validation images: the result is meant for other images.

    Args:
        probs: list of (H, W[, 1]) foreground probability maps (binary models), or (H, W, K)
            maps that `segment` reduces to one foreground (e.g. contour-target models).
        trues: list of true masks (0/1 or 0/255, or instance labels).
        metric: a name from `THRESHOLD_METRICS`.
        thresholds: thresholds to try (default 0.05, 0.10, ..., 0.95).
        min_sizes: minimum object sizes to try (pixels).
        segment: callable (prob, threshold, min_size) -> (mask, labels), the post-processing
            that inference applies (default: `postprocess` with default options).
        true_labels: optional true instance labels per image.
        connectivity: objects of binary true masks (1 or 2).
        names: image names, stored in the result as `images`.
        tolerance: scores within `tolerance` of the best count as tied; ties are broken
            by `best_grid_row` (the middle of the widest plateau).
        split_values: values of the instance split's parameter to try as a third axis
            (`segment` then takes it as a fourth argument); empty: `segment`'s own value.
        ignores: optional per-image ignore masks (None entries: every pixel scored); their
            pixels and objects are not scored (`dl_suite.evaluation.ignore`).

    Returns:
        dict: `threshold`, `min_size`, `metric`, `aggregate` ("mean" or "pooled"), `score`
        (at the chosen row), `best_score` (the grid's best), `default_score` (at threshold 0.5
        and the first min size, for comparison), `grid` (list of [threshold, min_size,
        score(, split value)]), `tolerance`, `tied` (rows within the tolerance used of the best;
        `tolerance_used` where `plateau_tolerance` widened it),
        `num_images`, `images`; with `split_values` also `split_value` (the chosen one); with
        ignore masks `ignore_masks` (how many images had one); for a metric that is the lower of
        two readings (`isbi.LOWER_OF`) also `readings`: {reading: its score per grid row}.

    Raises:
        ValueError: unknown metric, empty input, or multi-class probabilities without `segment`.
    """
    if metric not in THRESHOLD_METRICS:
        score_at(None, None, None, metric)  # raises the helpful error
    if not len(probs) or len(probs) != len(trues):
        raise ValueError(
            f"Received {len(probs)} probability maps and {len(trues)} masks; expected the "
            "same, non-zero number."
        )
    if segment is None and any(np.asarray(p).ndim == 3 and np.asarray(p).shape[-1] > 1 for p in probs):
        raise ValueError(
            "Received multi-class probabilities; threshold optimisation applies to binary "
            "(1-channel sigmoid) models only, multi-class models use argmax."
        )
    if split_values and segment is None:
        raise ValueError("split_values need a `segment` that takes the split value.")
    segment = segment or _default_segment
    thresholds = DEFAULT_THRESHOLDS if thresholds is None else tuple(thresholds)
    min_sizes = tuple(min_sizes) if min_sizes else (0,)
    references = (list(true_labels) if true_labels is not None
                  else [true_objects(t, connectivity) for t in trues])
    ignores = list(ignores) if ignores is not None else [None] * len(probs)

    pooled = metric in ISBI_METRICS

    def grid_scores(threshold, min_size, *split):
        """{name: score} of `metric` (and of its two readings, where it is their minimum)."""
        segmented = [segment(prob, threshold, min_size, *split) for prob in probs]
        if pooled:
            masks = [mask for mask, _ in segmented]
            scores = {name: float(pooled_isbi_score(masks, trues, name, ignores))
                      for name in LOWER_OF.get(metric, (metric,))}
            return {metric: min(scores.values()), **scores}
        return {metric: float(np.mean([
            score_at(mask, labels, true, metric, reference, connectivity, ignore)
            for (mask, labels), true, reference, ignore in zip(segmented, trues, references, ignores)]))}

    points = [(float(t), int(m), *([float(s)] if split_values else []))
              for s in (split_values or [None]) for m in min_sizes for t in thresholds]
    scores = [grid_scores(t, m, *split) for t, m, *split in points]
    grid = [[t, m, score[metric], *split] for (t, m, *split), score in zip(points, scores)]
    used = plateau_tolerance(grid, max(float(tolerance), 1e-9))
    chosen, tied = best_grid_row(grid, max(float(tolerance), 1e-9))
    result = {"metric": metric, "aggregate": "pooled" if pooled else "mean",
              "threshold": chosen[0], "min_size": chosen[1], "score": chosen[2],
              "best_score": max(row[2] for row in grid),
              "default_score": grid_scores(DEFAULT_THRESHOLD, min_sizes[0])[metric], "grid": grid,
              "tolerance": float(tolerance), "tied": tied,
              **({"tolerance_used": used} if used > max(float(tolerance), 1e-9) else {}),
              "num_images": len(probs), "images": [str(n) for n in (names or ())]}
    if metric in LOWER_OF:  # per grid row, for the threshold curve of the report
        result["readings"] = {name: [score[name] for score in scores] for name in LOWER_OF[metric]}
    if any(i is not None for i in ignores):
        result["ignore_masks"] = sum(i is not None for i in ignores)
    if split_values:
        result["split_value"] = chosen[3]
    widened = (f" (widened from {tolerance:.3g}: within it the ties were isolated peaks, no "
               f"run of {MIN_PLATEAU} thresholds)" if "tolerance_used" in result else "")
    logger.info("%s %.4f at threshold %.2f, min size %d%s: %d grid points lie within %.3g%s of "
                "the best (%.4f), this is the middle of their widest run (of equally wide runs, "
                "the one nearest 0.5; %.4f at 0.5).", metric,
                chosen[2], chosen[0], chosen[1],
                f", split value {chosen[3]:g}" if split_values else "", tied,
                used if widened else tolerance, widened,
                result["best_score"], result["default_score"])
    return result


def save_threshold(run_dir, result):
    """Stores the optimisation result as `run_dir/threshold.json` (atomic). An earlier
    threshold.json with other contents is kept first, as
    `run_dir/earlier_thresholds/threshold-<its date and time>.json` (a re-tuning evaluation
    never loses the values a run was used with)."""
    run_dir = Path(run_dir)
    path, text = run_dir / THRESHOLD_FILE, json.dumps(result, indent=1)
    if path.is_file():
        try:
            earlier = read_threshold_file(run_dir)
        except DataError:  # not JSON (edited by hand, cut short): kept all the same
            earlier = {}
        if earlier != json.loads(text):
            kept = keep_copy(path, run_dir / EARLIER_THRESHOLDS)
            earlier = earlier if isinstance(earlier, dict) else {}
            logger.info("The run's earlier threshold.json (threshold %s, min size %s) is kept as "
                        "%s.", earlier.get("threshold", "?"), earlier.get("min_size", "?"),
                        kept.relative_to(run_dir))
    return write_text(path, text)


def read_threshold_file(run_dir):
    """The stored optimisation result (dict with `threshold`, `min_size`, ...) or None."""
    return read_json(Path(run_dir) / THRESHOLD_FILE)


def load_threshold(run_dir, default=0.5):
    """(threshold, min_size) stored in the run, or (`default`, 0) if none was stored."""
    data = read_threshold_file(run_dir)
    if data is None:
        return float(default), 0
    return float(data["threshold"]), int(data.get("min_size") or 0)
