"""The evaluation scorecard: per-image rows and a summary from predicted masks and labels.

The predictions scored are the masks and instance labels that `dl-suite infer` writes (the
workflow makes them with the run's post-processing); nothing is re-thresholded here.
"""

import numpy as np

from dl_suite.evaluation.ignore import drop_ignored_objects
from dl_suite.evaluation.instance import (
    DEFAULT_IOU_THRESHOLDS,
    instance_labels,
    instance_scores,
    true_objects,
)
from dl_suite.evaluation.isbi import adapted_rand, components_table, isbi_table, scores_from_tables
from dl_suite.evaluation.pixel import label_scores

SCORE_FAMILIES = ("pixel", "instance", "isbi")


def evaluate_images(
    masks,
    trues,
    names=None,
    *,
    labels=None,
    class_maps=None,
    num_classes=2,
    foreground_class=None,
    scores=("pixel", "instance"),
    iou_thresholds=DEFAULT_IOU_THRESHOLDS,
    connectivity=1,
    true_labels=None,
    oracle_masks=None,
    ignores=None,
):
    """Scores every image and summarises.

    Args:
        masks: list of (H, W) bool predicted foreground masks (what infer writes as *_mask.tif).
        trues: list of true masks as read: binary, instance labels, or class indices.
        names: image names for the rows (default image_000, ...).
        labels: list of predicted instance labels (infer's *_labels.tif); None entries (or
            None) = 8-connected components of the mask.
        class_maps: multi-class only: list of (H, W) predicted class indices (argmax of the
            probabilities), scored against the class indices in `trues`.
        num_classes: 2 for binary, C for multi-class pixel scores.
        foreground_class: multi-class only: the class whose components are the true objects.
        scores: families from `SCORE_FAMILIES` ("isbi" needs EM masks: 1/255 cell, 0 membrane).
        iou_thresholds: instance-matching IoU thresholds.
        connectivity: true objects of masks without instance ids (1 or 2).
        true_labels: optional true instance labels (default: `true_objects` of `trues`).
        oracle_masks: optional {threshold: list of masks} for the ISBI oracle (best pooled
            score over thresholds, chosen with the scored ground truth).
        ignores: optional list of (H, W) bool ignore masks (None entries: nothing ignored):
            their pixels and the objects they cover are not scored (`dl_suite.evaluation.ignore`);
            rows then have `ignored_px` and, for instance scores, `n_true_ignored` and
            `n_pred_ignored`, and the summary an `ignore` entry.

    Returns:
        (rows, summary): rows is a list of dicts (one per image, key `image` first);
        summary has `num_images`, `mean` (per numeric column) and, with "isbi", `isbi`
        (pooled V_Rand / V_Info / v_rand_cc over all images, their per-image means, and the
        oracle).

    Raises:
        ValueError: unknown score family or mismatched inputs.
    """
    unknown = sorted(set(scores) - set(SCORE_FAMILIES))
    if unknown:
        raise ValueError(
            f"Received eval.scores {unknown}; expected any of {', '.join(SCORE_FAMILIES)}."
        )
    if len(masks) != len(trues):
        raise ValueError(f"Received {len(masks)} predictions and {len(trues)} masks; "
                         "expected one prediction per mask.")
    names = list(names) if names is not None else [f"image_{i:03d}" for i in range(len(masks))]
    has_ignore = ignores is not None and any(i is not None for i in ignores)
    ignores = list(ignores) if has_ignore else [None] * len(masks)
    rows, tables, harsh_tables = [], [], []
    for index, (mask, true) in enumerate(zip(masks, trues)):
        true = np.asarray(true)
        true = true[..., 0] if true.ndim == 3 else true
        mask = np.asarray(mask, bool)
        ignore = None if ignores[index] is None else np.asarray(ignores[index], bool)
        row = {"image": str(names[index])}
        if has_ignore:
            row["ignored_px"] = 0 if ignore is None else int(ignore.sum())
        if "pixel" in scores:
            if class_maps is not None:
                row.update(label_scores(class_maps[index], true, num_classes, ignore))
            else:
                row.update(label_scores(mask, true, ignore=ignore))
        if "instance" in scores:
            pred = labels[index] if labels is not None else None
            pred = pred if pred is not None else instance_labels(mask, connectivity=2)
            reference = (true_labels[index] if true_labels is not None
                         else true_objects(true, connectivity, foreground_class))
            dropped = (0, 0)
            if ignore is not None:
                pred, reference, *dropped = drop_ignored_objects(pred, reference, ignore)
            row.update(instance_scores(pred, reference, iou_thresholds))
            if has_ignore:
                row.update(n_true_ignored=dropped[1], n_pred_ignored=dropped[0])
        if "isbi" in scores:
            table, harsh = isbi_table(mask, true, ignore), components_table(mask, true, ignore)
            tables.append(table)
            harsh_tables.append(harsh)
            row["v_rand"], row["v_info"] = scores_from_tables([table])
            row["v_rand_cc"] = adapted_rand([harsh])
        rows.append(row)
    summary = {"num_images": len(rows), "mean": mean_row(rows)}
    if has_ignore:
        summary["ignore"] = _ignore_summary(rows, masks, ignores)
    if "isbi" in scores:
        summary["isbi"] = _isbi_summary(tables, rows, trues, oracle_masks, ignores)
        summary["isbi"]["v_rand_cc"] = adapted_rand(harsh_tables)
        summary["isbi"]["v_rand_cc_mean"] = float(np.mean([r["v_rand_cc"] for r in rows])) if rows else 1.0
    return rows, summary


def class_map(prob, mask, foreground_class):
    """Multi-class hard prediction that agrees with infer's mask: argmax of `prob` (H, W, C),
    then the foreground class exactly where `mask` is set (pixels the post-processing removed
    from it become background 0). With 2 classes this is the mask itself."""
    classes = np.asarray(prob).argmax(-1)
    mask = np.asarray(mask, bool)
    classes[(classes == foreground_class) & ~mask] = 0
    classes[mask] = foreground_class
    return classes


def _ignore_summary(rows, masks, ignores):
    """Totals of what the ignore masks left out (`summary["ignore"]`)."""
    pixels = sum(row["ignored_px"] for row in rows)
    total = sum(np.asarray(m).size for m in masks)
    summary = {"images_with_ignore_mask": sum(i is not None for i in ignores),
               "ignored_px": int(pixels), "ignored_share": float(pixels / max(total, 1)),
               "note": "ignored pixels and the objects they cover are not scored"}
    if rows and "n_true_ignored" in rows[0]:
        summary.update(true_objects_ignored=int(sum(r["n_true_ignored"] for r in rows)),
                       predicted_objects_ignored=int(sum(r["n_pred_ignored"] for r in rows)))
    return summary


def _isbi_summary(tables, rows, trues, oracle_masks, ignores):
    v_rand, v_info = scores_from_tables(tables)
    isbi = {"v_rand": v_rand, "v_info": v_info,
            "v_rand_mean": float(np.mean([r["v_rand"] for r in rows])) if rows else 1.0,
            "v_info_mean": float(np.mean([r["v_info"] for r in rows])) if rows else 1.0,
            "convention": "pooled over all images at the run's threshold (see README)"}
    if oracle_masks:
        curve = {float(t): scores_from_tables([isbi_table(m, g, i)
                                               for m, g, i in zip(masks, trues, ignores)])
                 for t, masks in oracle_masks.items()}
        best_rand = max(curve, key=lambda t: curve[t][0])
        best_info = max(curve, key=lambda t: curve[t][1])
        isbi["oracle"] = {
            "note": "ORACLE: threshold chosen with the scored images' own ground truth; "
                    "an upper bound, not an estimate of performance",
            "v_rand_oracle": curve[best_rand][0], "v_rand_oracle_threshold": best_rand,
            "v_info_oracle": curve[best_info][1], "v_info_oracle_threshold": best_info,
            "thresholds": list(curve), "v_rand_curve": [v[0] for v in curve.values()],
            "v_info_curve": [v[1] for v in curve.values()],
        }
    return isbi


def mean_row(rows):
    """Mean of every numeric column over the rows (NaN-safe)."""
    keys = [k for k in (rows[0] if rows else {}) if k not in ("image", "video", "frame")]
    return {
        key: float(np.nanmean([row[key] for row in rows if row.get(key) is not None]))
        for key in keys
        if all(isinstance(row.get(key), (int, float, np.number)) for row in rows)
    }
