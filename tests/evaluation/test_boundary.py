import importlib.util
from pathlib import Path

import numpy as np
import pytest

from dl_suite.evaluation.boundary import boundary_counts, boundary_summary, pooled
from dl_suite.io import write_image

SCRIPT = Path(__file__).resolve().parents[2] / "additional_scripts" / "boundary_errors.py"


def _square_truth():
    true = np.zeros((20, 20), bool)
    true[5:15, 5:15] = True  # 100 px, outline of 36 px
    return true


def test_a_one_pixel_wider_prediction_errs_only_at_the_outline():
    true = _square_truth()
    pred = np.zeros_like(true)
    pred[4:16, 4:16] = True  # 144 px: 44 wrong pixels, all just outside the outline
    counts = boundary_counts(pred, true)
    summary = boundary_summary(counts)
    assert counts["false_positive"] == 44 and counts["false_negative"] == 0
    assert summary["iou"] == pytest.approx(100 / 144)
    # the 4 corner pixels of the ring lie sqrt(2) px from the square: within 2, not within 1
    assert counts["errors_within_1"] == 40 and counts["errors_within_2"] == 44
    assert summary["share_within_1"] == pytest.approx(40 / 44)
    # outside the 2-px band nothing is wrong; outside 1 px only the 4 corners are
    assert summary["iou_outside_2"] == 1.0
    assert counts["union_outside_1"] - counts["intersection_outside_1"] == 4
    # the truth against itself with the outline moved in (8x8 = 64) and out (100 + 40 = 140)
    assert summary["truth_iou_thicker"] == pytest.approx(64 / 100)
    assert summary["truth_iou_thinner"] == pytest.approx(100 / 140)


def test_an_error_far_from_the_outline_is_not_a_boundary_error():
    true = _square_truth()
    pred = true.copy()
    pred[9:11, 9:11] = False  # a 4-px hole in the middle, 4-5 px from the outline
    counts = boundary_counts(pred, true)
    assert counts["false_negative"] == 4 and counts["errors_within_2"] == 0
    assert boundary_summary(counts)["iou_outside_2"] == pytest.approx((36 - 4) / 36)
    total = pooled([counts, counts])
    assert total["union"] == 200 and boundary_summary(total)["iou"] == pytest.approx(96 / 100)
    with pytest.raises(ValueError, match="differ in shape"):
        boundary_counts(pred[:5], true)


def test_script_reads_infer_masks(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("boundary_errors", SCRIPT)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    (tmp_path / "pred").mkdir()
    (tmp_path / "true").mkdir()
    true = _square_truth()
    pred = np.zeros_like(true)
    pred[4:16, 4:16] = True
    write_image(tmp_path / "pred" / "a_mask.tif", pred.astype(np.uint8) * 255)
    write_image(tmp_path / "true" / "a.png", true.astype(np.uint8) * 255)
    assert script.main([str(tmp_path / "pred"), str(tmp_path / "true")]) == 0
    out = capsys.readouterr().out
    assert "| a | 0.694 | 44 | 0.909 | 1.000 |" in out and "| pooled | 0.694 | 44 |" in out
    assert script.main([str(tmp_path / "true"), str(tmp_path / "true")]) == 2
    assert "No <name>_mask.tif in" in capsys.readouterr().err
    (tmp_path / "true" / "a.png").write_bytes(b"not an image")  # a corrupt true mask
    assert script.main([str(tmp_path / "pred"), str(tmp_path / "true")]) == 2
    assert "Error:" in capsys.readouterr().err


def test_ignored_pixels_leave_every_count():
    true = _square_truth()
    pred = np.zeros_like(true)
    pred[4:16, 4:16] = True
    ignore = np.zeros_like(true)
    ignore[:, :10] = True  # the left half: scored columns 10-19
    counts = boundary_counts(pred, true, ignore=ignore)
    summary = boundary_summary(counts)
    # truth 10 x 5 = 50 px, prediction 12 x 6 = 72 px: the ring's right half, 22 wrong pixels
    assert counts["intersection"] == 50 and counts["union"] == 72
    assert counts["false_positive"] == 22 and counts["false_negative"] == 0
    assert counts["errors_within_1"] == 20 and counts["errors_within_2"] == 22  # 2 corners
    # the truth against itself: eroded 8 x 4 = 32 px, dilated (4-connected) 60 + 10 = 70 px
    assert summary["truth_iou_thicker"] == pytest.approx(32 / 50)
    assert summary["truth_iou_thinner"] == pytest.approx(50 / 70)
    # nothing ignored: the same counts as without the argument
    assert boundary_counts(pred, true, ignore=np.zeros_like(true)) == boundary_counts(pred, true)
    with pytest.raises(ValueError, match="ignore mask"):
        boundary_counts(pred, true, ignore=ignore[:5])


def test_script_leaves_out_ignored_pixels(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("boundary_errors", SCRIPT)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    for folder in ("pred", "true", "ignore"):
        (tmp_path / folder).mkdir()
    true = _square_truth()
    pred = np.zeros_like(true)
    pred[4:16, 4:16] = True
    ignore = np.zeros((20, 20), np.uint8)
    ignore[:8] = 255  # the top rows: truth 7 x 10 = 70 px, prediction 8 x 12 = 96 px
    write_image(tmp_path / "pred" / "a_mask.tif", pred.astype(np.uint8) * 255)
    write_image(tmp_path / "true" / "a.png", true.astype(np.uint8) * 255)
    write_image(tmp_path / "ignore" / "a.png", ignore)
    args = [str(tmp_path / "pred"), str(tmp_path / "true"), "--ignore", str(tmp_path / "ignore")]
    assert script.main(args) == 0
    # IoU 70 / 96, 26 wrong pixels, 24 of them within 1 px (all but the 2 lower corners)
    assert "| a | 0.729 | 26 | 0.923 | 1.000 |" in capsys.readouterr().out
    write_image(tmp_path / "ignore" / "a.png", ignore[:10])
    assert script.main(args) == 2
    assert "The ignore mask a.png is 20x10 px but its true mask a.png is 20x20" in (
        capsys.readouterr().err)
    write_image(tmp_path / "pred" / "a_mask.tif", pred[:, :12].astype(np.uint8) * 255)
    assert script.main(args[:2]) == 2  # a prediction of another size: one message, exit 2
    assert "a_mask.tif is 12x20 px but its true mask a.png is 20x20: not the same image?" in (
        capsys.readouterr().err)
