"""Evaluation scores against references: numpy, scikit-image's Rand/VI, hand-made objects."""

from pathlib import Path

import numpy as np
import pytest
from skimage.metrics import adapted_rand_error, variation_of_information

from dl_suite.config import schema
from dl_suite.evaluation import (
    THRESHOLD_METRICS, evaluate_images, instance_labels, instance_scores, isbi_scores,
    load_threshold, optimise_threshold, overlay, pixel_scores, save_threshold, write_report,
)
from dl_suite.evaluation.isbi import cells_from_interior, rand_and_info
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


def test_isbi_matches_skimage_definitions():
    interior = np.ones((48, 48), bool)
    interior[:, 20:22] = False
    interior[30:32, :] = False
    prob = np.clip(interior + RNG.normal(0, 0.4, interior.shape), 0, 1)
    true_labels = cells_from_interior(interior)
    pred_labels = cells_from_interior(prob >= 0.5, grow_into_borders=True)
    v_rand, v_info = rand_and_info(true_labels, pred_labels)
    error, _, _ = adapted_rand_error(true_labels, pred_labels, ignore_labels=(0,))
    assert v_rand == pytest.approx(1 - error)
    keep = true_labels > 0
    # skimage returns (H(image1 | image0), H(image0 | image1)).
    _, bits = variation_of_information(true_labels[keep], pred_labels[keep])
    h_true_given_pred = bits * np.log(2)  # skimage uses bits, we use nats
    p = np.unique(true_labels[keep], return_counts=True)[1] / keep.sum()
    q = np.unique(pred_labels[keep], return_counts=True)[1] / keep.sum()
    h_s, h_t = -(p * np.log(p)).sum(), -(q * np.log(q)).sum()
    assert v_info == pytest.approx((h_s - h_true_given_pred) / (0.5 * (h_s + h_t)))
    perfect = isbi_scores(interior.astype(float), interior.astype(np.uint8) * 255)
    assert perfect["v_rand"] == pytest.approx(1.0) and perfect["v_info"] == pytest.approx(1.0)


@pytest.mark.skipif(not ISBI.is_dir(), reason="shared ISBI data not available")
def test_isbi_real_slice_perfect_and_noisy():
    true = read_mask(ISBI / "label" / "00.png")[:128, :128]
    noisy = np.clip(true + RNG.normal(0, 0.6, true.shape), 0, 1)
    scores = isbi_scores(noisy, true, thresholds=(0.3, 0.5, 0.7))
    assert 0 < scores["v_rand"] < 1 and scores["v_rand"] == max(scores["v_rand_curve"])
    assert isbi_scores(true.astype(float), true, thresholds=(0.5,))["v_rand"] == pytest.approx(1)


def test_optimise_threshold_finds_shifted_optimum(tmp_path):
    trues = [RNG.random((24, 24)) > 0.5 for _ in range(2)]
    probs = [np.where(t, 0.35, 0.15) + RNG.normal(0, 0.02, t.shape) for t in trues]
    result = optimise_threshold(probs, trues, "dice", thresholds=(0.1, 0.25, 0.5),
                                min_sizes=(0, 2))
    assert result["threshold"] == 0.25 and result["score"] == pytest.approx(1.0)
    assert result["default_score"] < 0.5 and len(result["grid"]) == 6
    save_threshold(tmp_path, result)
    assert load_threshold(tmp_path) == (0.25, 0)
    assert load_threshold(tmp_path / "none", default=0.4) == (0.4, 0)
    with pytest.raises(ValueError, match="threshold_metric"):
        optimise_threshold(probs, trues, "dise")


def test_scorecard_and_report(tmp_path):
    trues = [_squares() > 0, np.zeros((40, 40), bool)]
    probs = [(_squares(offset=1) > 0) * 0.9, np.zeros((40, 40))]
    rows, summary = evaluate_images(probs, trues, ["a.png", "b.png"],
                                    scores=("pixel", "instance", "isbi"))
    assert [r["image"] for r in rows] == ["a.png", "b.png"] and rows[1]["dice"] == 1.0
    assert summary["mean"]["dice"] == pytest.approx((rows[0]["dice"] + 1) / 2)
    assert "v_rand" in summary["isbi"]
    for fmt in ("md", "html"):
        paths = write_report(tmp_path / fmt, rows, summary, fmt=fmt,
                             overlays=[("a.png", overlay(probs[0], trues[0], probs[0] > 0.5))])
        assert paths["report"].read_text().count("a.png") >= 1
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
