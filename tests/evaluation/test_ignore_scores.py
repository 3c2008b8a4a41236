"""Scores with ignore masks: ignored pixels and the objects they cover are not scored."""

import numpy as np
import pytest

from dl_suite.evaluation import evaluate_images, instance_scores, label_scores, optimise_threshold
from dl_suite.evaluation.ignore import drop_ignored_objects, ignored_objects
from dl_suite.evaluation.isbi import adapted_rand, components_table, isbi_table, scores_from_tables


def _scene():
    """10x10: true A (rows 0-3, cols 0-3) 75 % ignored, true B (rows 6-9, cols 6-9) 25 %;
    P1 (rows 1-5, cols 0-3) overlaps A with IoU 0.5 but is only 40 % ignored, P2 (rows 6-9,
    cols 0-2) lies wholly in an ignored region without a true object, P3 = B."""
    true = np.zeros((10, 10), np.int32)
    true[0:4, 0:4], true[6:10, 6:10] = 1, 2
    pred = np.zeros((10, 10), np.int32)
    pred[1:6, 0:4], pred[6:10, 0:3], pred[6:10, 6:10] = 1, 2, 3
    ignore = np.zeros((10, 10), bool)
    ignore[0:3, 0:4] = ignore[6:10, 9] = ignore[6:10, 0:3] = True
    return pred, true, ignore


def test_objects_mostly_ignored_or_matching_an_ignored_object_are_dropped():
    pred, true, ignore = _scene()
    assert ignored_objects(true, ignore).tolist() == [1]  # 12/16; B 4/16 stays
    assert ignored_objects(pred, ignore).tolist() == [2]  # P1 8/20 stays by its share
    kept_pred, kept_true, num_pred, num_true = drop_ignored_objects(pred, true, ignore)
    assert (num_pred, num_true) == (2, 1)  # P1 goes with A (IoU 12 / 24 = 0.5), P2 by its share
    assert sorted(np.unique(kept_pred)) == [0, 3] and sorted(np.unique(kept_true)) == [0, 2]
    assert pred.max() == 3 and true.max() == 2  # inputs unchanged
    # every object scored: TP 2 (A-P1 at IoU 0.5, B-P3), FP 1 (P2): F1 4/5; ignored: 1 of 1
    assert instance_scores(pred, true)["f1_50"] == pytest.approx(0.8, abs=1e-12)
    assert instance_scores(kept_pred, kept_true)["f1_50"] == 1.0


def test_pixel_scores_leave_the_ignored_pixels_out():
    pred, true, ignore = _scene()
    # 72 scored pixels: true 16 (A's row 3, B's cols 6-8), predicted 24, TP 16, FP 8 (P1 rows 4-5)
    scores = label_scores(pred > 0, true, ignore=ignore)
    assert scores["dice"] == pytest.approx(32 / 40, abs=1e-12)
    assert scores["iou"] == pytest.approx(16 / 24, abs=1e-12)
    assert scores["pixel_accuracy"] == pytest.approx(64 / 72, abs=1e-12)
    assert scores["recall"] == 1.0
    # every pixel: true 32, predicted 48, TP 28: Dice 56 / 80
    assert label_scores(pred > 0, true)["dice"] == pytest.approx(0.7, abs=1e-12)
    everything = label_scores(pred > 0, true, ignore=np.ones((10, 10), bool))
    assert everything["dice"] == 1.0 and everything["pixel_accuracy"] == 1.0


def test_isbi_scores_leave_the_ignored_pixels_out():
    true = np.ones((8, 9), np.uint8)
    true[:, 4] = 0  # two cells of 32 px, A (cols 0-3) and B (cols 5-8)
    merged = np.ones((8, 9), bool)  # one predicted cell over both
    ignore = np.zeros((8, 9), bool)
    ignore[:, 5:] = True  # all of B
    # V_Rand = (32^2 + 32^2) / (0.5 (32^2 + 32^2) + 0.5 * 64^2) = 2/3
    assert scores_from_tables([isbi_table(merged, true)])[0] == pytest.approx(2 / 3, abs=1e-12)
    assert scores_from_tables([isbi_table(merged, true, ignore)]) == (1.0, 1.0)
    # pairs without replacement: 2 (2 * 32^2 - 64) / (2 * 32^2 - 64 + 64^2 - 64)
    expected = 2 * 1984 / (1984 + 4032)
    assert adapted_rand([components_table(merged, true)]) == pytest.approx(expected, abs=1e-12)
    assert adapted_rand([components_table(merged, true, ignore)]) == 1.0


def test_scorecard_reports_what_was_left_out_and_images_without_a_mask_are_scored_whole():
    pred, true, ignore = _scene()
    rows, summary = evaluate_images([pred > 0, pred > 0], [true > 0, true > 0], ["a", "b"],
                                    labels=[pred, pred], true_labels=[true, true],
                                    ignores=[ignore, None])
    assert rows[0]["ignored_px"] == 28 and rows[1]["ignored_px"] == 0
    assert (rows[0]["n_true_ignored"], rows[0]["n_pred_ignored"]) == (1, 2)
    assert rows[0]["f1_50"] == 1.0 and rows[1]["f1_50"] == pytest.approx(0.8, abs=1e-12)
    assert rows[0]["dice"] == pytest.approx(0.8, abs=1e-12)
    assert rows[1]["dice"] == pytest.approx(0.7, abs=1e-12)
    assert summary["ignore"]["ignored_px"] == 28 and summary["ignore"]["images_with_ignore_mask"] == 1
    assert summary["ignore"]["ignored_share"] == pytest.approx(28 / 200, abs=1e-12)
    assert (summary["ignore"]["true_objects_ignored"], summary["ignore"]["predicted_objects_ignored"]) == (1, 2)
    # without ignore masks nothing changes: no extra columns, no `ignore` entry
    plain, plain_summary = evaluate_images([pred > 0], [true > 0], labels=[pred], ignores=[None])
    assert "ignored_px" not in plain[0] and "ignore" not in plain_summary


def test_threshold_tuning_does_not_chase_errors_in_ignored_regions():
    prob = np.zeros((20, 20), np.float32)
    prob[2:8, 2:8] = 0.62  # the true object
    prob[12:18, 12:18] = 0.32  # a blob where the annotation is missing
    true = np.zeros((20, 20), np.uint8)
    true[2:8, 2:8] = 1
    ignore = np.zeros((20, 20), bool)
    ignore[11:19, 11:19] = True
    grid = np.round(np.arange(0.05, 0.951, 0.05), 2)
    plain = optimise_threshold([prob], [true], "dice", grid)
    around = optimise_threshold([prob], [true], "dice", grid, ignores=[ignore])
    # Dice 1 for thresholds 0.35-0.60 when the blob counts (middle of 6: 0.45), for 0.05-0.60
    # when it is ignored (middle of 12: 0.30)
    assert (plain["threshold"], plain["tied"]) == (0.45, 6) and "ignore_masks" not in plain
    assert (around["threshold"], around["tied"]) == (0.30, 12) and around["ignore_masks"] == 1
