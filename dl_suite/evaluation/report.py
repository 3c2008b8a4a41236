"""Evaluation outputs: `evaluation.csv`, `summary.json`, `report.md` (or `.html`) and overlays."""

import json
from pathlib import Path

import numpy as np

from dl_suite.display import to_display_rgb
from dl_suite.evaluation.scorecard import mean_row
from dl_suite.io import write_image, write_text

REPORT_COLUMNS = ("dice", "iou", "precision", "recall", "f1", "pixel_accuracy",
                  "ap_50", "ap_mean", "pq", "v_rand", "v_info", "v_rand_cc")


def overlay(image, true, pred, alpha=0.5):
    """RGB uint8 overlay: true positives green, false positives red, false negatives blue.

    Args:
        image: (H, W[, C]) image (any range; the first channel or RGB is shown in grey/colour).
        true, pred: (H, W) boolean foreground masks.
    """
    rgb = to_display_rgb(image).astype(np.float32) / 255.0
    true, pred = np.asarray(true).astype(bool), np.asarray(pred).astype(bool)
    true = true[..., 0] if true.ndim == 3 else true
    pred = pred[..., 0] if pred.ndim == 3 else pred
    colours = {(True, True): (0, 1, 0), (False, True): (1, 0, 0), (True, False): (0, 0.4, 1)}
    for (t, p), colour in colours.items():
        where = (true == t) & (pred == p)
        rgb[where] = (1 - alpha) * rgb[where] + alpha * np.array(colour, np.float32)
    return np.clip(rgb * 255 + 0.5, 0, 255).astype(np.uint8)


def _format(value):
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def rows_to_csv(rows):
    """CSV text: one row per image plus a final `mean` row."""
    keys = list(dict.fromkeys(k for row in rows for k in row))
    mean = {"image": "mean", **mean_row(rows)}
    lines = [",".join(keys)]
    for row in rows + [mean]:
        lines.append(",".join(_csv_cell(row.get(k, "")) for k in keys))
    return "\n".join(lines) + "\n"


def _csv_cell(value):
    text = repr(value) if isinstance(value, float) else str(value)
    return f'"{text}"' if "," in text or '"' in text else text


def _table(header, body):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_format(v) for v in row) + " |" for row in body]
    return lines


def _markdown(rows, summary, overlay_files, title):
    lines = [f"# {title}", "", f"Images: {summary.get('num_images', len(rows))}; threshold "
             f"{summary.get('threshold')}; minimum object size {summary.get('min_size', 0)} px.",
             "", "## Mean over images", ""]
    lines += _table(["metric", "mean"], [[k, v] for k, v in _mean_items(summary)])
    if ignore_note(summary):
        lines += ["", ignore_note(summary)]
    if "isbi" in summary:
        isbi = summary["isbi"]
        lines += ["", "## ISBI 2012 at the run's threshold", ""]
        lines += _table(["metric", "pooled over images", "mean over images"],
                        [["V_Rand", isbi["v_rand"], isbi["v_rand_mean"]],
                         ["V_Info", isbi["v_info"], isbi["v_info_mean"]],
                         ["V_Rand of 4-connected components, no thinning (harsher)",
                          isbi["v_rand_cc"], isbi["v_rand_cc_mean"]]])
        if "oracle" in isbi:
            oracle = isbi["oracle"]
            lines += ["", "Oracle (threshold chosen with these images' own ground truth, an "
                      "upper bound, not a fair score): "
                      f"V_Rand {_format(oracle['v_rand_oracle'])} at "
                      f"{oracle['v_rand_oracle_threshold']}, V_Info "
                      f"{_format(oracle['v_info_oracle'])} at {oracle['v_info_oracle_threshold']}."]
    columns = [c for c in REPORT_COLUMNS if rows and c in rows[0]]
    if summary.get("videos"):
        lines += ["", "## Per video (mean over its frames)", ""]
        lines += _table(["video", "frames"] + columns,
                        [[v, s["num_frames"]] + [s["mean"].get(c) for c in columns]
                         for v, s in summary["videos"].items()])
    lines += ["", "## Per image", ""]
    lines += _table(["image"] + columns, [[r["image"]] + [r[c] for c in columns] for r in rows])
    if overlay_files:
        lines += ["", "## Overlays", "", "Green: correct foreground; red: false positive; "
                  "blue: missed foreground.", ""]
        lines += [f"![{name}]({path})" for name, path in overlay_files]
    return "\n".join(lines) + "\n"


def ignore_note(summary):
    """One sentence on what ignore masks left out and the scores on every pixel ("" without)."""
    ignore = summary.get("ignore")
    if not ignore:
        return ""
    objects = ""
    if "true_objects_ignored" in ignore:
        objects = (f" and {ignore['true_objects_ignored']} true / "
                   f"{ignore['predicted_objects_ignored']} predicted objects")
    every = summary.get("all_pixels", {})
    scores = [(k, v) for k, v in every.get("mean", {}).items() if k in REPORT_COLUMNS]
    scores += [(f"{k} pooled", v) for k, v in every.get("isbi", {}).items()]
    text = (f"Scores with ignore masks ({ignore['images_with_ignore_mask']} image(s)): "
            f"{ignore['ignored_px']} px ({100 * ignore['ignored_share']:.2f} %){objects} are not "
            "scored.")
    if scores:
        text += " The same masks on every pixel: " + ", ".join(
            f"{k} {_format(v)}" for k, v in scores) + "."
    return text


def _mean_items(summary):
    return [(k, v) for k, v in summary.get("mean", {}).items() if k in REPORT_COLUMNS or k.startswith("ap_")]


def write_report(out_dir, rows, summary, overlays=None, fmt="md", title="dl-suite evaluation", *,
                 history=None, tuned=None):
    """Writes the evaluation outputs into `out_dir`.

    Args:
        out_dir: output folder (created).
        rows, summary: from `evaluate_images`.
        overlays: optional list of (name, RGB uint8 array), e.g. from `overlay`; written as
            `overlays/<name>.png` and shown in the report.
        fmt: "md" (report.md) or "html" (report.html: a page with a sortable per-image table,
            the threshold curve, training curves and the overlays).
        title: report heading.
        history: optional per-epoch dicts (the run's history.csv) for the training curves (html).
        tuned: optional threshold optimisation result (the run's threshold.json, with `grid`)
            for the threshold curve (html).

    Returns:
        dict of the written paths: `csv`, `summary`, `report`, `overlays`.

    Raises:
        ValueError: unknown `fmt`.
    """
    if fmt not in ("md", "html"):
        raise ValueError(f"Received `report_format='{fmt}'`, expected 'md' or 'html'.")
    out_dir = Path(out_dir)
    paths = {"csv": write_text(out_dir / "evaluation.csv", rows_to_csv(rows)),
             "summary": write_text(out_dir / "summary.json",
                                   json.dumps(summary, indent=1, default=float))}
    overlay_files = []
    for name, image in overlays or ():
        stem = Path(str(name)).stem
        write_image(out_dir / "overlays" / f"{stem}.png", image)
        overlay_files.append((stem, f"overlays/{stem}.png"))
    if fmt == "html":
        from dl_suite.evaluation.report_html import render_html

        columns = [c for c in REPORT_COLUMNS if rows and c in rows[0]]
        page = render_html(rows, summary, overlay_files, title=title, columns=columns,
                           mean=_mean_items(summary), history=history, tuned=tuned)
        paths["report"] = write_text(out_dir / "report.html", page)
    else:
        paths["report"] = write_text(out_dir / "report.md", _markdown(rows, summary, overlay_files, title))
    paths["overlays"] = [out_dir / p for _, p in overlay_files]
    return paths
