"""Evaluation scores against references: numpy, scikit-image's Rand/VI, hand-made objects."""

from pathlib import Path

import numpy as np
import pytest
from skimage.metrics import variation_of_information

from dl_suite.config import schema
from dl_suite.evaluation import (
    THRESHOLD_METRICS, best_grid_row, class_map, evaluate_images, instance_labels, instance_scores, isbi_scores,
    load_threshold, optimise_threshold, overlay, pixel_scores, read_threshold_file,
    save_threshold, true_objects, write_report,
)
from dl_suite.evaluation.isbi import cells_from_interior, rand_and_info
from dl_suite.evaluation.threshold import plateau_tolerance, score_at
from dl_suite.io import read_mask

RNG = np.random.default_rng(3)
ISBI = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "isbi2012"


def test_pixel_scores_match_numpy():
    prob, true = RNG.random((32, 32)), RNG.random((32, 32)) > 0.6
    pred = prob >= 0.3
    tp, fp, fn = (pred & true).sum(), (pred & ~true).sum(), (~pred & true).sum()
    p, r = tp / (tp + fp), tp / (tp + fn)
    got = pixel_scores(prob[..., None], true.astype(np.uint8) * 255, threshold=0.3)
    np.testing.assert_allclose(
        [got[k] for k in ("dice", "iou", "precision", "recall", "f1", "pixel_accuracy")],
        [2 * tp / (2 * tp + fp + fn), tp / (tp + fp + fn), p, r, 2 * p * r / (p + r),
         (pred == true).mean()])
    assert pixel_scores(np.zeros((8, 8)), np.zeros((8, 8)))["dice"] == 1.0
    assert pixel_scores(np.zeros((8, 8)), np.ones((8, 8)))["recall"] == 0.0
    multi = pixel_scores(np.eye(3)[RNG.integers(0, 3, (8, 8))], RNG.integers(0, 3, (8, 8)))
    assert 0 <= multi["dice"] <= 1


def _squares(offset=0):
    labels = np.zeros((40, 40), np.int32)
    labels[2:12, 2:12] = 1
    labels[20:30, 20 + offset:30 + offset] = 2
    return labels


def test_instance_scores_known_objects():
    true = _squares()
    pred = _squares(offset=3)  # second square: IoU 70/130 = 0.538
    pred[35:38, 35:38] = 3  # a false positive
    scores = instance_scores(pred, true)
    assert scores["n_true"] == 2 and scores["n_pred"] == 3
    assert scores["precision_50"] == pytest.approx(2 / 3) and scores["recall_50"] == 1.0
    assert scores["ap_50"] == pytest.approx(2 / 3)
    assert scores["ap_55"] == pytest.approx(1 / 4) and scores["f1_55"] == pytest.approx(2 / 5)
    sq = (1 + 70 / 130) / 2
    assert scores["pq"] == pytest.approx(sq * 0.8)
    empty = np.zeros((8, 8), int)
    assert instance_scores(empty, empty)["ap_mean"] == 1.0
    assert instance_labels(_squares() > 0, min_size=101).max() == 0


def test_isbi_matches_pair_counting_and_skimage_vi():
    interior = np.ones((24, 24), bool)
    interior[:, 10] = False
    interior[15, :] = False
    prob = np.clip(interior + RNG.normal(0, 0.4, interior.shape), 0, 1)
    true_labels = cells_from_interior(interior)
    pred_labels = cells_from_interior(prob >= 0.5, grow_into_borders=True)
    assert (pred_labels > 0).all()  # every predicted border pixel was given to a cell
    v_rand, v_info = rand_and_info(true_labels, pred_labels)
    keep = true_labels > 0
    a, b = true_labels[keep], pred_labels[keep]
    # Ordered pixel pairs drawn with replacement (self-pairs included), counted one by one.
    same_true, same_pred = a[:, None] == a[None], b[:, None] == b[None]
    expected = (same_true & same_pred).sum() / (0.5 * same_true.sum() + 0.5 * same_pred.sum())
    assert v_rand == pytest.approx(expected, rel=1e-12)
    # skimage returns (H(image1 | image0), H(image0 | image1)) in bits.
    _, bits = variation_of_information(a, b)
    p = np.unique(a, return_counts=True)[1] / a.size
    q = np.unique(b, return_counts=True)[1] / b.size
    h_s, h_t = -(p * np.log(p)).sum(), -(q * np.log(q)).sum()
    assert v_info == pytest.approx((h_s - bits * np.log(2)) / (0.5 * (h_s + h_t)), rel=1e-9)
    perfect = isbi_scores(interior, interior.astype(np.uint8) * 255)
    assert perfect == {"v_rand": pytest.approx(1.0), "v_info": pytest.approx(1.0), "v_rand_cc": 1.0}


@pytest.mark.skipif(not ISBI.is_dir(), reason="shared ISBI data not available")
def test_isbi_real_slice_perfect_and_noisy():
    true = read_mask(ISBI / "label" / "00.png")[:128, :128]
    noisy = np.clip(true + RNG.normal(0, 0.6, true.shape), 0, 1) > 0.5
    assert 0 < isbi_scores(noisy, true)["v_rand"] < 0.99
    assert isbi_scores(true > 0, true)["v_rand"] == pytest.approx(1)


def test_optimise_threshold_finds_shifted_optimum(tmp_path):
    trues = [RNG.random((24, 24)) > 0.5 for _ in range(2)]
    probs = [np.where(t, 0.35, 0.15) + RNG.normal(0, 0.02, t.shape) for t in trues]
    segment = lambda p, t, m: (p > t, None)  # noqa: E731 - plain thresholding
    result = optimise_threshold(probs, trues, "dice", thresholds=(0.1, 0.25, 0.5),
                                min_sizes=(0, 2), segment=segment, names=["a", "b"])
    assert result["threshold"] == 0.25 and result["score"] == pytest.approx(1.0)
    assert result["default_score"] < 0.5 and len(result["grid"]) == 6
    assert result["images"] == ["a", "b"] and result["num_images"] == 2
    save_threshold(tmp_path, {**result, "min_size": 0})
    assert load_threshold(tmp_path) == (0.25, 0)
    assert read_threshold_file(tmp_path)["min_size"] == 0
    assert load_threshold(tmp_path / "none", default=0.4) == (0.4, 0)
    with pytest.raises(ValueError, match="threshold_metric"):
        optimise_threshold(probs, trues, "dise")


def test_retuning_keeps_the_earlier_threshold_file(tmp_path, caplog):
    import json
    import os

    first = {"metric": "f1_50", "threshold": 0.5, "min_size": 30}
    save_threshold(tmp_path, first)
    os.utime(tmp_path / "threshold.json", (1_700_000_000, 1_700_000_000))
    save_threshold(tmp_path, dict(first))            # the same values again: nothing to keep
    assert not (tmp_path / "earlier_thresholds").exists()
    os.utime(tmp_path / "threshold.json", (1_700_000_000, 1_700_000_000))
    with caplog.at_level("INFO"):
        save_threshold(tmp_path, {**first, "threshold": 0.35})
    kept = sorted((tmp_path / "earlier_thresholds").iterdir())
    assert [p.name for p in kept] == [f"threshold-{_stamp(1_700_000_000)}.json"]
    assert json.loads(kept[0].read_text()) == first and load_threshold(tmp_path) == (0.35, 30)
    assert "earlier threshold.json (threshold 0.5, min size 30) is kept as" in caplog.text
    # a third value, same second: a second copy under its own name; a corrupt file is kept too
    os.utime(tmp_path / "threshold.json", (1_700_000_000, 1_700_000_000))
    save_threshold(tmp_path, {**first, "threshold": 0.6})
    (tmp_path / "threshold.json").write_text("{cut short")
    save_threshold(tmp_path, first)
    names = sorted(p.name for p in (tmp_path / "earlier_thresholds").iterdir())
    assert len(names) == 3 and f"threshold-{_stamp(1_700_000_000)}-2.json" in names
    assert load_threshold(tmp_path) == (0.5, 30)


def _stamp(seconds):
    import datetime

    return datetime.datetime.fromtimestamp(seconds).strftime("%Y%m%d-%H%M%S")


def test_tied_thresholds_resolve_to_the_middle_of_the_plateau():
    # scores by threshold at min size 0: a plateau 0.3-0.5 whose left edge sits by a drop
    grid = [[0.1, 0, 0.5], [0.2, 0, 0.6], [0.3, 0, 0.9], [0.4, 0, 0.9], [0.5, 0, 0.9],
            [0.6, 0, 0.8], [0.1, 5, 0.9], [0.2, 5, 0.1]]
    # (0.1, 5) ties too, but its neighbourhood (0.9 + 0.1) / 2 is worse; 0.4's is 0.9
    assert best_grid_row(grid) == ([0.4, 0, 0.9], 4)
    assert best_grid_row([[0.5, 0, 0.7], [0.6, 0, 0.8]]) == ([0.6, 0, 0.8], 1)

    true = np.zeros((16, 16), bool)
    true[4:12, 4:12] = True
    prob = np.where(true, 0.75, 0.05)  # every threshold in 0.1-0.7 segments it exactly
    segment = lambda p, t, m: (p > t, None)  # noqa: E731 - plain thresholding
    result = optimise_threshold([prob], [true], "dice", thresholds=(0.1, 0.3, 0.5, 0.7, 0.9),
                                segment=segment)
    assert (result["threshold"], result["tied"]) == (0.3, 4)  # first was 0.1: a plateau edge


def test_scores_within_the_tolerance_tie_so_a_narrow_peak_loses_to_a_wide_plateau():
    # ISBI seed 1's validation V_Rand: 0.938-0.939 over 0.3-0.7, a one-point peak at 0.75
    scores = [0.924, 0.930, 0.938, 0.938, 0.938, 0.938, 0.939, 0.945, 0.935, 0.904]
    thresholds = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.9]
    grid = [[t, 0, s] for t, s in zip(thresholds, scores)]
    assert best_grid_row(grid)[0][0] == 0.75  # exact ties only: the peak
    # within 0.01 of 0.945: 0.938 (0.3) .. 0.935 (0.8), 7 points; their middle is 0.6
    assert best_grid_row(grid, 0.01) == ([0.6, 0, 0.938], 7)

    # through optimise_threshold: two background pixels at 0.65 cost every threshold below
    # them Dice 200 / 202; 0.7 is exact but sits next to the drop at 0.8 (foreground 0.75)
    true = np.zeros((20, 20), bool)
    true[5:15, 5:15] = True
    prob = np.where(true, 0.75, 0.05)
    prob[0, :2] = 0.65
    segment = lambda p, t, m: (p > t, None)  # noqa: E731 - plain thresholding
    thresholds = (0.1, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
    exact = optimise_threshold([prob], [true], "dice", thresholds, segment=segment, tolerance=0)
    loose = optimise_threshold([prob], [true], "dice", thresholds, segment=segment, tolerance=0.02)
    assert (exact["threshold"], exact["tied"], exact["score"]) == (0.7, 1, 1.0)
    assert (loose["threshold"], loose["tied"], loose["tolerance"]) == (0.4, 6, 0.02)
    assert loose["score"] == pytest.approx(200 / 202) and loose["best_score"] == 1.0


def test_isbi_metrics_are_tuned_pooled_as_evaluate_reports_them():
    # A: two 8-pixel cells, membrane pixel at 0.45; B: one 4-pixel cell, one pixel at 0.5
    true_a = np.zeros((3, 19), np.uint8)
    true_a[1, 1:9] = true_a[1, 10:18] = 1
    prob_a = np.where(true_a > 0, 0.9, 0.05)
    prob_a[1, 9] = 0.45
    true_b = np.zeros((3, 6), np.uint8)
    true_b[1, 1:5] = 1
    prob_b = np.where(true_b > 0, 0.9, 0.05)
    prob_b[1, 2] = 0.5
    segment = lambda p, t, m: (p > t, None)  # noqa: E731 - plain thresholding
    result = optimise_threshold([prob_a, prob_b], [true_a, true_b], "v_rand_cc",
                                thresholds=(0.3, 0.6), segment=segment, tolerance=0)
    # 0.3: A's cells merge (pairs 112 / 240), B exact (12 / 12): 2 * 124 / (124 + 252);
    # 0.6: A exact (112 / 112), B split 1 | membrane | 2 (2 / 2): 2 * 114 / (124 + 114).
    # The per-image means (0.818 at 0.3, 0.643 at 0.6) would choose 0.3.
    assert [row[2] for row in result["grid"]] == pytest.approx([248 / 376, 228 / 238], abs=1e-12)
    assert (result["threshold"], result["aggregate"]) == (0.6, "pooled")
    assert optimise_threshold([prob_a, prob_b], [true_a, true_b], "dice", thresholds=(0.3, 0.6),
                              segment=segment)["aggregate"] == "mean"


def test_v_rand_both_tunes_for_the_lower_of_v_rand_and_the_harsher_reading():
    # 12 x 21 px; true membrane: column 10 and row 6 right of it -> cells L (rows 0-11, columns
    # 0-9: 120 px), RT (rows 0-5, columns 11-20: 60 px), RB (rows 7-11: 50 px); N = 230.
    # Predicted: membrane 0.1, interior 0.9, except columns 9, 11, 12 at 0.65 (thick at 0.7)
    # and a gap in row 6 at 0.6 (open at 0.5).
    # 0.5: RT and RB merge (110 px): V_Rand = 20500 / (0.5 * 20500 + 0.5 * 26500) = 41 / 47;
    #   harsher (pairs without replacement) 2 * 20270 / (20270 + 26270) = 2027 / 2327.
    # 0.7: the gap closes and the 3-px membrane thins back onto the true one: V_Rand = 1; the
    #   harsher reading counts the 34 membrane pixels inside cells as a segment: table
    #   [108, 12], [48, 12], [40, 10] -> 2 * 15726 / (20270 + 16494) = 7863 / 9191.
    true = np.ones((12, 21), np.uint8)
    true[:, 10] = 0
    true[6, 11:] = 0
    prob = np.where(true > 0, 0.9, 0.1)
    prob[:, [9, 11, 12]] = 0.65
    prob[6, 15] = 0.6
    segment = lambda p, t, m: (p > t, None)  # noqa: E731 - plain thresholding
    tuned = {metric: optimise_threshold([prob], [true], metric, (0.5, 0.7), segment=segment,
                                        tolerance=0) for metric in ("v_rand", "v_rand_cc", "v_rand_both")}
    grids = {metric: [row[2] for row in r["grid"]] for metric, r in tuned.items()}
    assert grids["v_rand"] == pytest.approx([41 / 47, 1.0], abs=1e-12)
    assert grids["v_rand_cc"] == pytest.approx([2027 / 2327, 7863 / 9191], abs=1e-12)
    assert grids["v_rand_both"] == pytest.approx([2027 / 2327, 7863 / 9191], abs=1e-12)
    assert (tuned["v_rand"]["threshold"], tuned["v_rand_both"]["threshold"]) == (0.7, 0.5)
    # both readings are kept per grid row for the report's threshold curve
    assert tuned["v_rand_both"]["readings"] == {"v_rand": pytest.approx([41 / 47, 1.0], abs=1e-12),
                                                "v_rand_cc": pytest.approx(grids["v_rand_cc"], abs=1e-12)}
    assert "readings" not in tuned["v_rand"]
    assert score_at(prob > 0.5, None, true, "v_rand_both") == pytest.approx(2027 / 2327, abs=1e-12)
    # Only column 9 thick: at 0.7 the 2-px membrane thins off the true one and V_Rand is the
    # lower reading, so v_rand_both takes V_Rand there and the harsher reading at 0.5.
    prob[:, [11, 12]] = 0.9
    at_07 = isbi_scores(prob > 0.7, true)
    assert at_07["v_rand"] < at_07["v_rand_cc"]
    both = optimise_threshold([prob], [true], "v_rand_both", (0.5, 0.7), segment=segment)
    assert [row[2] for row in both["grid"]] == pytest.approx([2027 / 2327, at_07["v_rand"]], abs=1e-12)
    assert score_at(prob > 0.7, None, true, "v_rand_both") == at_07["v_rand"]


def test_touching_instances_are_two_objects():
    true = np.zeros((20, 20), np.uint16)
    true[5:15, 2:10] = 1
    true[5:15, 10:18] = 2  # touches object 1 along a whole edge
    assert true_objects(true).max() == 2
    assert true_objects(true > 0).max() == 1  # a binary mask cannot tell them apart
    pred = true.astype(np.int32)
    rows, _ = evaluate_images([true > 0], [true], labels=[pred], scores=("instance",))
    assert rows[0]["n_true"] == 2 and rows[0]["ap_50"] == 1.0
    merged = (true > 0).astype(np.int32)  # one predicted object over both
    rows, _ = evaluate_images([true > 0], [true], labels=[merged], scores=("instance",))
    # IoU of the merged object with either true object is 80/160 = 0.5: one match at 0.5.
    assert rows[0]["n_true"] == 2 and rows[0]["n_pred"] == 1
    assert rows[0]["ap_50"] == pytest.approx(1 / 2) and rows[0]["ap_55"] == 0.0


def test_scorecard_scores_given_masks_and_report(tmp_path):
    trues = [_squares() > 0, np.zeros((40, 40), bool)]
    masks = [_squares(offset=1) > 0, np.zeros((40, 40), bool)]
    bridged = masks[0].copy()
    bridged[6:8, 12:24] = bridged[8:20, 22:24] = True  # joins the two squares: V_Rand < 1
    rows, summary = evaluate_images(masks, trues, ["a.png", "b.png"],
                                    scores=("pixel", "instance", "isbi"),
                                    oracle_masks={0.5: [bridged, masks[1]], 0.7: trues})
    # square 2 shifted by one column: TP = 190, FP = FN = 10 -> Dice 380 / 400.
    assert rows[0]["dice"] == pytest.approx(380 / 400) and rows[1]["dice"] == 1.0
    assert summary["mean"]["dice"] == pytest.approx((380 / 400 + 1) / 2)
    assert summary["isbi"]["oracle"]["v_rand_oracle_threshold"] == 0.7
    assert summary["isbi"]["oracle"]["v_rand_oracle"] == pytest.approx(1.0)
    assert "ORACLE" in summary["isbi"]["oracle"]["note"]
    for fmt in ("md", "html"):
        paths = write_report(tmp_path / fmt, rows, summary, fmt=fmt,
                             overlays=[("a.png", overlay(masks[0], trues[0], masks[0]))])
        assert paths["report"].read_text().count("a.png") >= 1
        assert "Oracle" in paths["report"].read_text()
        assert (tmp_path / fmt / "overlays" / "a.png").is_file()
    lines = (tmp_path / "md" / "evaluation.csv").read_text().splitlines()
    assert len(lines) == 4 and lines[-1].startswith("mean,")


def test_schema_enums_equal_registries():
    props = schema.section_properties()
    assert props["eval"]["threshold_metric"]["enum"] == list(THRESHOLD_METRICS)
    from dl_suite.optimizers import OPTIMIZERS, SCHEDULES
    assert sorted(props["train"]["lr_schedule"]["enum"]) == SCHEDULES.names()
    assert sorted(props["model"]["optimizer"]["enum"]) == OPTIMIZERS.names()
    from dl_suite.losses import LOSSES
    assert sorted(props["model"]["loss"]["enum"]) == LOSSES.names()


def test_class_map_agrees_with_the_written_mask():
    prob = np.zeros((4, 4, 3))
    prob[..., 0] = 1.0  # background everywhere ...
    prob[0, :, 1] = 2.0  # ... but class 1 in row 0
    prob[1, :2, 2] = 2.0  # and the foreground class 2 at (1, 0), (1, 1)
    mask = np.zeros((4, 4), bool)
    mask[1, 0] = True  # post-processing kept (1, 0), dropped (1, 1), added (3, 3)
    mask[3, 3] = True
    expected = np.zeros((4, 4), int)
    expected[0] = 1
    expected[1, 0] = expected[3, 3] = 2
    np.testing.assert_array_equal(class_map(prob, mask, 2), expected)
    two = class_map(np.stack([1 - prob[..., 2] / 2, prob[..., 2] / 2], -1), mask, 1)
    np.testing.assert_array_equal(two, mask)  # 2 classes: exactly the mask


def test_equally_wide_plateaus_resolve_to_the_one_nearest_the_default_threshold():
    # DeepCell seed 13's validation F1@0.5 at min size 30 (machine C): within 0.02 of the best
    # (0.934 at 0.85) lie 0.05-0.20 and 0.70-0.85, four thresholds each (and 0.30-0.40)
    scores = [0.923, 0.923, 0.914, 0.914, 0.898, 0.914, 0.914, 0.914, 0.898, 0.898, 0.898,
              0.898, 0.898, 0.914, 0.914, 0.914, 0.934, 0.899, 0.884]
    grid = [[round(0.05 * (i + 1), 2), 30, s] for i, s in enumerate(scores)]
    assert best_grid_row(grid, 0.02) == ([0.75, 30, 0.914], 11)  # not 0.10, by the grid's edge
    # mirrored, so that the nearer plateau comes first: it wins, not the last of equals
    mirrored = [[round(1 - t, 2), m, s] for t, m, s in reversed(grid)]
    assert best_grid_row(mirrored, 0.02) == ([0.2, 30, 0.914], 11)
    # equally near (0.4 and 0.6, each the middle of three): the first, as before
    grid = [[0.3, 0, 0.9], [0.4, 0, 0.9], [0.5, 0, 0.9], [0.6, 0, 0.1], [0.5, 5, 0.9],
            [0.6, 5, 0.9], [0.7, 5, 0.9]]
    assert best_grid_row(grid) == ([0.4, 0, 0.9], 6)


def test_ties_that_are_only_isolated_peaks_widen_the_tolerance_to_a_plateau():
    # Attention U-Net seed 10's validation F1@0.5 (machine C): within 0.02 of the best (0.944
    # at 0.95 / 30) lie only one-point peaks at the grid's edges, 0.05 / 30 and 0.95 / 80; the
    # plateau 0.20-0.60 at 0.917 is one nucleus lower
    at_30 = [0.926, 0.918, 0.901, 0.917, 0.917, 0.917, 0.917, 0.917, 0.917, 0.917, 0.917,
             0.917, 0.898, 0.898, 0.901, 0.882, 0.909, 0.917, 0.944]
    at_80 = [0.909, 0.901, 0.901, 0.917, 0.917, 0.917, 0.917, 0.917, 0.917, 0.917, 0.898,
             0.898, 0.879, 0.879, 0.882, 0.863, 0.907, 0.907, 0.926]
    grid = [[round(0.05 * (i + 1), 2), m, s] for m, scores in ((30, at_30), (80, at_80))
            for i, s in enumerate(scores)]
    assert plateau_tolerance(grid, 0.02) == pytest.approx(0.027)  # 0.918 (0.05-0.10): a pair
    assert best_grid_row(grid, 0.02) == ([0.4, 30, 0.917], 21)  # was 0.05, the grid's edge
    assert best_grid_row(grid)[0] == [0.95, 30, 0.944]  # exact ties never widen
    # at most twice the tolerance: with 0.01 (up to 0.02) no plateau is reached, as before
    assert plateau_tolerance(grid, 0.01) == 0.01
    assert best_grid_row(grid, 0.01)[0] == [0.95, 30, 0.944]


def test_split_values_are_a_third_grid_axis_and_plateaus_stay_within_one_value():
    # at min size 0: two tied rows at split 5, three at split 10; without the split column
    # all five would be one plateau whose middle is (0.4, split 10)
    grid = [[0.4, 0, 0.9, 5], [0.5, 0, 0.9, 5], [0.4, 0, 0.9, 10], [0.5, 0, 0.9, 10],
            [0.6, 0, 0.9, 10]]
    assert best_grid_row(grid) == ([0.5, 0, 0.9, 10], 5)

    from dl_suite.inference.postprocess import PostprocessOptions
    from dl_suite.workflows.postprocessing import RunPostprocess

    # two discs of radius 9 whose centres are 16 px apart touch along a neck: a watershed
    # with min distance 30 finds one centre: one object, which matches disc 1 (IoU = disc 1 /
    # both > 0.5, as disc 2 lacks the shared pixels): TP 1, FN 1, F1 = 2/3; 5 finds both: F1 1
    yy, xx = np.mgrid[:40, :56]
    true = np.zeros((40, 56), np.int32)
    true[(yy - 20) ** 2 + (xx - 20) ** 2 <= 81] = 1
    true[((yy - 20) ** 2 + (xx - 36) ** 2 <= 81) & (true == 0)] = 2
    prob = np.where(true > 0, 0.9, 0.1)
    segment = RunPostprocess(PostprocessOptions(instance_method="watershed", fill_holes=False))
    result = optimise_threshold(
        [prob], [true > 0], "f1_50", thresholds=(0.5,), true_labels=[true],
        segment=lambda p, t, m, s=None: segment.at(t, m, s)(p)[1:], split_values=(30, 5))
    assert [row[2:] for row in result["grid"]] == [[pytest.approx(2 / 3), 30.0], [1.0, 5.0]]
    assert result["split_value"] == 5 and result["score"] == 1.0
    with pytest.raises(ValueError, match="split"):
        optimise_threshold([prob], [true > 0], "f1_50", split_values=(5,))
