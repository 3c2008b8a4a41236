"""Robustness tables (CSV, Markdown, JSON) and plots; files are written through dl_suite.io.

A row is one run x condition: `family` ("clean", a corruption family or an attack), `severity`
(0 for clean; 1..5, or the epsilon's index for attacks), `level`, `unit`, `iou`, `dice` and
`ratio` = IoU(condition) / IoU(clean) of the same run.
"""

import csv
import io
import json
from pathlib import Path

import numpy as np

from dl_suite.io import save_figure, write_text
from dl_suite.robustness.snr import __doc__ as SNR_DEFINITION

COLUMNS = ("run", "family", "severity", "level", "unit", "iou", "dice", "ratio")


def robustness_ratio(iou, clean_iou):
    """IoU(degraded) / IoU(clean); NaN when the clean IoU is 0 (no reference to compare to)."""
    return float(iou) / float(clean_iou) if clean_iou > 0 else float("nan")


def add_ratios(rows):
    """Fills `ratio` of every row from the same run's clean row (in place; returns rows)."""
    clean = {row["run"]: row["iou"] for row in rows if row["family"] == "clean"}
    for row in rows:
        row["ratio"] = robustness_ratio(row["iou"], clean[row["run"]])
    return rows


def mean_robustness(rows):
    """{run: {family: mean ratio over its levels}} (clean excluded)."""
    table = {}
    for row in rows:
        if row["family"] != "clean":
            table.setdefault(row["run"], {}).setdefault(row["family"], []).append(row["ratio"])
    return {run: {fam: float(np.nanmean(v)) for fam, v in fams.items()} for run, fams in table.items()}


def _fmt(value):
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def _markdown(rows, means, notes):
    lines = ["# dl-suite robustness report", "", *notes, "", "## Per condition", "",
             "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(_fmt(row[c]) for c in COLUMNS) + " |" for row in rows]
    families = list(dict.fromkeys(f for fams in means.values() for f in fams))
    lines += ["", "## Mean robustness per family (mean IoU ratio over levels)", "",
              "| run | " + " | ".join(families) + " |", "|" + "---|" * (len(families) + 1)]
    lines += ["| " + run + " | " + " | ".join(_fmt(fams.get(f, float("nan"))) for f in families) + " |"
              for run, fams in means.items()]
    lines += ["", "## SNR definition", "", "```", SNR_DEFINITION.strip(), "```", ""]
    return "\n".join(lines)


def _plot_ratios(rows, attack_names, attacks):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 4))
    chosen = [r for r in rows if r["family"] != "clean" and (r["family"] in attack_names) == attacks]
    run_names = list(dict.fromkeys(r["run"] for r in chosen))
    styles = ("-", "--", ":", "-.")
    for k, family in enumerate(dict.fromkeys(r["family"] for r in chosen)):
        for j, run in enumerate(run_names):  # colour = family, line style = run
            points = [r for r in chosen if r["run"] == run and r["family"] == family]
            xs = [r["level"] if attacks else r["severity"] for r in points]
            axis.plot(xs, [r["ratio"] for r in points], marker="o", ms=3, color=f"C{k % 10}",
                      linestyle=styles[j % len(styles)], label=family if j == 0 else None)
    if len(run_names) > 1:
        words = ("solid", "dashed", "dotted", "dash-dot")
        axis.set_title(", ".join(f"{r}: {words[j % 4]}" for j, r in enumerate(run_names)), fontsize=7)
    if attacks:
        axis.set_xscale("log", base=2)
    axis.set_xlabel("epsilon (grey levels / 255)" if attacks else "severity")
    axis.set_ylabel("IoU(degraded) / IoU(clean)")
    axis.axhline(1.0, color="grey", lw=0.5)
    axis.legend(fontsize=6, ncol=2)
    return figure


def _plot_heatmap(means):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = list(means)
    families = list(dict.fromkeys(f for fams in means.values() for f in fams))
    values = np.array([[means[r].get(f, np.nan) for f in families] for r in runs])
    figure, axis = plt.subplots(figsize=(1 + 0.7 * len(families), 1 + 0.5 * len(runs)))
    image = axis.imshow(values, vmin=0, vmax=1, cmap="viridis")
    axis.set_xticks(range(len(families)), families, rotation=60, ha="right", fontsize=7)
    axis.set_yticks(range(len(runs)), runs, fontsize=7)
    for (i, j), value in np.ndenumerate(values):
        axis.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=6, color="k" if value > 0.6 else "w")
    figure.colorbar(image, label="mean robustness")
    return figure


def write_robustness_report(out_dir, rows, notes=(), attack_names=()):
    """Writes robustness.csv/.md/.json, ratio_vs_severity.png, ratio_vs_epsilon.png and, with
    several runs, robustness_heatmap.png into `out_dir`.

    Returns:
        {run: {family: mean ratio}}.
    """
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    means = mean_robustness(rows)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text(out_dir / "robustness.csv", buffer.getvalue())
    write_text(out_dir / "robustness.md", _markdown(rows, means, list(notes)))
    write_text(out_dir / "robustness.json", json.dumps({"rows": rows, "mean_robustness": means}, indent=1))
    figures = {"ratio_vs_severity.png": _plot_ratios(rows, attack_names, False)}
    if any(r["family"] in attack_names for r in rows):
        figures["ratio_vs_epsilon.png"] = _plot_ratios(rows, attack_names, True)
    if len(means) > 1:
        figures["robustness_heatmap.png"] = _plot_heatmap(means)
    for name, figure in figures.items():
        save_figure(figure, out_dir / name)
        plt.close(figure)
    return means
