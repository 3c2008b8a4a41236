"""The evaluation report as an HTML page (Jinja2 template `templates/report.html.j2`).

Self-contained apart from the overlay PNGs beside it: inline CSS, inline SVG charts and a few
lines of JavaScript that sort the per-image table; nothing is loaded from the network.
"""

import functools
import math

import jinja2

from dl_suite.evaluation.svg import line_chart
from dl_suite.evaluation.report import ignore_note

TEMPLATE = "report.html.j2"


@functools.lru_cache(maxsize=1)
def _environment():
    return jinja2.Environment(
        loader=jinja2.PackageLoader("dl_suite.evaluation", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
    )


def _text(value):
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.4f}"
    return "" if value is None else str(value)


def _cell(value):
    """{text shown, value sorted by}: numbers sort numerically, blanks as text."""
    if isinstance(value, float) and math.isnan(value):
        return {"text": "", "value": ""}
    return {"text": _text(value), "value": "" if value is None else str(value)}


def _curve_key(row):
    """(min size[, split value]) of a threshold.json grid row: the curve it belongs to."""
    return (int(row[1]), *row[3:4])


def threshold_chart(tuned):
    """SVG of the mean validation score per threshold (one line per minimum size), or ""."""
    grid = (tuned or {}).get("grid") or []
    if not grid:
        return ""
    keys = sorted({_curve_key(row) for row in grid})  # (min size[, split value])
    split = tuned.get("split_parameter", "split")

    def label(key):
        parts = [f"min size {key[0]}"] if len({k[0] for k in keys}) > 1 else []
        parts += [f"{split} {key[1]:g}"] if len(key) > 1 and len(keys) > 1 else []
        return ", ".join(parts) or tuned.get("metric", "score")

    rows = {key: [row for row in grid if _curve_key(row) == key] for key in keys}
    series = [(label(key), [row[0] for row in rows[key]], [row[2] for row in rows[key]])
              for key in keys]
    metric = tuned.get("metric", "score")
    chart = line_chart(series, title=f"validation {metric} vs threshold", x_label="threshold",
                       marker_x=tuned.get("threshold"))
    return chart + readings_chart(tuned)


def readings_chart(tuned):
    """SVG of the readings a combined metric is the lower of (threshold.json `readings`, e.g.
    V_Rand and the harsher reading for `v_rand_both`) at the chosen min size, or ""."""
    grid, readings = tuned.get("grid") or [], tuned.get("readings") or {}
    chosen = (tuned.get("min_size"), *([tuned["split_value"]] if "split_value" in tuned else []))
    at = [i for i, row in enumerate(grid) if _curve_key(row) == chosen]
    if not readings or not at:
        return ""
    metric = tuned.get("metric", "score")
    series = [(metric, [grid[i][0] for i in at], [grid[i][2] for i in at])]
    series += [(name, [grid[i][0] for i in at], [values[i] for i in at])
               for name, values in readings.items()]
    return line_chart(series, title=f"validation readings at min size {chosen[0]}",
                      x_label="threshold", marker_x=tuned.get("threshold"))


def training_charts(history):
    """SVGs of the training history (one per quantity, train and validation together)."""
    rows = history or []
    names = sorted({k[4:] if k.startswith("val_") else k for row in rows for k in row} - {"epoch"})
    names.sort(key=lambda n: (n != "loss", n == "learning_rate", n))  # loss first, lr last
    epochs = [row.get("epoch") for row in rows]
    charts = []
    for name in names:
        series = [(label, epochs, [row.get(key) for row in rows])
                  for key, label in ((name, "train"), (f"val_{name}", "validation"))
                  if any(row.get(key) is not None for row in rows)]
        chart = line_chart(series, title=name, x_label="epoch")
        if chart:
            charts.append(chart)
    return charts


def render_html(rows, summary, overlay_files, *, title, columns, mean, history=None, tuned=None):
    """The report page as text.

    Args:
        rows: per-image score dicts.
        summary: the evaluation summary (threshold, min_size, isbi, videos, tuning ...).
        overlay_files: list of (name, relative path of the PNG).
        title: page heading.
        columns: score columns shown per image.
        mean: list of (metric, mean value).
        history: optional per-epoch dicts of the run (history.csv) for the training curves.
        tuned: optional threshold optimisation result (threshold.json) for the threshold curve.
    """
    isbi = None
    if "isbi" in summary:
        data = summary["isbi"]
        isbi = {"rows": [["V_Rand", _text(data["v_rand"]), _text(data["v_rand_mean"])],
                         ["V_Info", _text(data["v_info"]), _text(data["v_info_mean"])],
                         ["V_Rand of 4-connected components, no thinning (harsher)",
                          _text(data["v_rand_cc"]), _text(data["v_rand_cc_mean"])]],
                "oracle": ""}
        if "oracle" in data:
            oracle = data["oracle"]
            isbi["oracle"] = (
                "Oracle (threshold chosen with these images' own ground truth, an upper bound, not "
                f"a fair score): V_Rand {_text(oracle['v_rand_oracle'])} at "
                f"{oracle['v_rand_oracle_threshold']}, V_Info {_text(oracle['v_info_oracle'])} at "
                f"{oracle['v_info_oracle_threshold']}.")
    videos = [[_cell(name), _cell(stats["num_frames"])] + [_cell(stats["mean"].get(c)) for c in columns]
              for name, stats in (summary.get("videos") or {}).items()]
    tuning = summary.get("tuning") or {}
    return _environment().get_template(TEMPLATE).render(
        title=title, num_images=summary.get("num_images", len(rows)), split=summary.get("split"),
        threshold=summary.get("threshold"), min_size=summary.get("min_size", 0),
        run=summary.get("run"), tuning_status=tuning.get("status", ""),
        mean=[(name, _text(value)) for name, value in mean], isbi=isbi, videos=videos,
        ignore_note=ignore_note(summary),
        columns=columns, rows=[[_cell(r.get("image"))] + [_cell(r.get(c)) for c in columns] for r in rows],
        threshold_chart=threshold_chart(tuned), threshold_metric=(tuned or {}).get("metric", ""),
        threshold_aggregate=(tuned or {}).get("aggregate", "mean").capitalize(),
        training_charts=training_charts(history), overlays=overlay_files,
    )
