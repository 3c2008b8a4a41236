"""The HTML evaluation report: Jinja2 page with a sortable table, curves, overlays; headless Chromium."""

import os
import re
import shutil

import numpy as np
import pytest
from scipy import ndimage

from dl_suite.data.synthetic import synthetic_nuclei
from dl_suite.evaluation import evaluate_images, overlay, write_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _report(out_dir, num_images=5, size=48, fmt="html"):
    """A report from synthetic nuclei and perturbed predictions (dilated, eroded, shifted)."""
    images, trues, masks, names = [], [], [], []
    for i in range(num_images):
        image, labels = synthetic_nuclei((size, size), seed=i, radius=(4, 8))
        true = labels > 0
        pred = [ndimage.binary_dilation(true, iterations=2), ndimage.binary_erosion(true),
                np.roll(true, 3, axis=1), true, ndimage.binary_dilation(true)][i % 5]
        images.append(image), trues.append(true), masks.append(pred)
        names.append(f"cell_<{i}>.tif" if i == 0 else f"cells_{i:02d}.tif")  # escaped in HTML
    rows, summary = evaluate_images(masks, trues, names, scores=("pixel", "instance"))
    summary.update(threshold=0.45, min_size=0, split="test", tuning={"status": "optimised"})
    history = [{"epoch": e, "loss": 1 / e, "val_loss": 1.2 / e, "dice_coef": 1 - 0.5 / e,
                "val_dice_coef": 1 - 0.6 / e, "learning_rate": 1e-3} for e in range(1, 9)]
    tuned = {"metric": "dice", "threshold": 0.45, "min_size": 0,
             "grid": [[t / 20, 0, 0.9 - (t / 20 - 0.45) ** 2] for t in range(1, 20)]}
    overlays = [(n, overlay(i, t, m)) for n, i, t, m in zip(names, images, trues, masks)][:3]
    paths = write_report(out_dir, rows, summary, overlays=overlays, fmt=fmt, history=history, tuned=tuned)
    return paths, rows


def test_html_report_has_table_curves_and_overlays(tmp_path):
    paths, rows = _report(tmp_path)
    page = paths["report"].read_text()
    assert paths["report"].name == "report.html" and page.startswith("<!DOCTYPE html>")
    table = page.split('id="per-image-table"')[1].split("</table>")[0]
    assert table.count("<tr>") == len(rows) + 1  # heading + one row per image
    assert "cell_&lt;0&gt;.tif" in page and "cell_<0>" not in page  # autoescaped
    assert page.count("<svg") == 1 + 3  # threshold curve; loss, dice_coef, learning_rate
    assert 'aria-label="validation dice vs threshold"' in page
    assert page.count('<img src="overlays/') == 3 and all(p.is_file() for p in paths["overlays"])
    dice = [float(r["dice"]) for r in rows]
    assert f'data-value="{dice[1]!s}"' in page
    md, _ = _report(tmp_path / "md", fmt="md")  # the Markdown report stays available
    assert md["report"].name == "report.md" and "| image |" in md["report"].read_text()


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("no Chromium: install the distribution's package (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    with sync_api.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


def test_html_report_in_headless_chromium(tmp_path, browser):
    paths, rows = _report(tmp_path, num_images=6, size=64)
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    problems = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type in ("error", "warning") else None)
    page.on("pageerror", lambda err: problems.append(str(err)))
    page.on("requestfailed", lambda req: problems.append(f"failed: {req.url}"))
    page.goto(paths["report"].resolve().as_uri(), wait_until="load")
    assert page.evaluate("Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")

    def column(index):
        return page.eval_on_selector_all(
            "#per-image-table tbody tr", f"rows => rows.map(r => r.cells[{index}].getAttribute('data-value'))")

    heads = page.eval_on_selector_all("#per-image-table thead th", "ths => ths.map(t => t.textContent)")
    dice_col = heads.index("dice")
    assert column(0) == [r["image"] for r in rows]  # as written
    page.click("#per-image-table thead th:nth-child(%d)" % (dice_col + 1))
    ascending = [float(v) for v in column(dice_col)]
    assert ascending == sorted(float(r["dice"]) for r in rows) and ascending[0] < ascending[-1]
    page.click("#per-image-table thead th:nth-child(%d)" % (dice_col + 1))
    assert [float(v) for v in column(dice_col)] == ascending[::-1]
    page.click("#per-image-table thead th:nth-child(1)")
    assert column(0) == sorted(r["image"] for r in rows)
    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    if os.environ.get("DL_SUITE_REPORT_SCREENSHOT"):  # docs/report_screenshot.png
        page.screenshot(path=os.environ["DL_SUITE_REPORT_SCREENSHOT"], full_page=True, type="png")
    page.close()
    assert problems == []


def test_svg_chart_keeps_every_point_inside_the_plot():
    from dl_suite.evaluation.svg import line_chart

    svg = line_chart([("a", [0.05, 0.5, 0.95], [0.41, 0.97, 0.2]), ("b", [1, 2], [None, 0.5])],
                     title="t", x_label="x", marker_x=0.45, width=300, height=200)
    points = [tuple(map(float, p.split(","))) for line in re.findall(r'points="([^"]+)"', svg)
              for p in line.split()]
    circles = [(float(x), float(y)) for x, y in re.findall(r'cx="([\d.]+)" cy="([\d.]+)"', svg)]
    assert len(points) == 3 and len(circles) == 4  # the None point is skipped
    assert all(48 <= x <= 300 - 12 and 36 <= y <= 200 - 36 for x, y in points + circles)
    assert 'class="marker"' in svg and line_chart([("a", [1], [None])], title="t", x_label="x") == ""


def test_threshold_chart_draws_one_line_per_split_value():
    from dl_suite.evaluation.report_html import threshold_chart

    grid = [[t, 0, 0.8 + s / 100, s] for s in (5.0, 15.0) for t in (0.3, 0.5, 0.7)]
    chart = threshold_chart({"metric": "f1_50", "threshold": 0.5, "grid": grid,
                             "split_parameter": "min_distance", "split_value": 15.0})
    assert "min_distance 5" in chart and "min_distance 15" in chart
    assert "min size" not in chart  # one minimum size: not named


def test_threshold_chart_adds_both_readings_of_v_rand_both_at_the_chosen_min_size():
    from dl_suite.evaluation.report_html import threshold_chart

    # min size 0: V_Rand rises with the threshold; min size 20 (chosen): it falls
    readings = {"v_rand": [0.8, 0.9, 0.95, 0.85, 0.8, 0.7],
                "v_rand_cc": [0.95, 0.9, 0.8, 0.6, 0.75, 0.9]}
    grid = [[t, m, min(readings["v_rand"][i], readings["v_rand_cc"][i])]
            for i, (m, t) in enumerate((m, t) for m in (0, 20) for t in (0.3, 0.5, 0.7))]
    chart = threshold_chart({"metric": "v_rand_both", "threshold": 0.5, "min_size": 20,
                             "grid": grid, "readings": readings})
    first, second = chart.split("</svg>")[:2]
    assert "v_rand_cc" not in first and "readings at min size 20" in second
    lines = [[float(p.split(",")[1]) for p in points.split()]
             for points in re.findall(r'<polyline[^>]* points="([^"]+)"', second)]
    assert len(lines) == 3 and ">&#9644; v_rand_cc<" in second
    lower, v_rand, harsher = lines  # svg y grows downwards: a lower score is a larger y
    assert v_rand[0] < v_rand[1] < v_rand[2] and harsher[0] > harsher[1] > harsher[2]
    assert lower == [max(a, b) for a, b in zip(v_rand, harsher)]
    assert threshold_chart({"metric": "v_rand", "threshold": 0.5, "min_size": 0,
                            "grid": grid}).count("</svg>") == 1


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_report_says_what_ignore_masks_left_out_and_the_every_pixel_scores(tmp_path, fmt):
    true = np.zeros((20, 20), bool)
    true[2:8, 2:8] = True
    pred = true.copy()
    pred[12:16, 12:16] = True  # a false object, ignored
    ignore = np.zeros((20, 20), bool)
    ignore[11:17, 11:17] = True
    rows, summary = evaluate_images([pred], [true], ["a"], ignores=[ignore])
    summary["all_pixels"] = {"mean": evaluate_images([pred], [true], ["a"])[1]["mean"]}
    page = write_report(tmp_path, rows, summary, fmt=fmt)["report"].read_text()
    # 36 px ignored; every pixel: Dice 2 * 36 / (2 * 36 + 16) = 0.8182, with the mask 1
    assert "Scores with ignore masks (1 image(s)): 36 px (9.00 %) and 0 true / 1 predicted" in page
    assert "The same masks on every pixel: dice 0.8182" in page and rows[0]["dice"] == 1.0
