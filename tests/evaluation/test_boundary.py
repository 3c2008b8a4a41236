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
