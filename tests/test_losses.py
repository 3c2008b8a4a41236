"""Losses against numpy references, edge cases, serialization."""

import numpy as np
import pytest
import keras
from scipy import ndimage

from dl_suite import losses as L
from dl_suite.registry import UnknownNameError

EPS = 1e-7
RNG = np.random.default_rng(0)


def _binary(shape=(2, 32, 32)):
    true = (RNG.random(shape + (1,)) > 0.6).astype("float32")
    prob = RNG.random(shape + (1,)).astype("float32")
    return true, prob


def _multi(shape=(2, 32, 32), classes=3):
    true = RNG.integers(0, classes, shape + (1,)).astype("float32")
    logits = RNG.normal(size=shape + (classes,))
    prob = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    return true, prob.astype("float32")


def _onehot(true, prob):
    if prob.shape[-1] == 1:
        return true
    return np.eye(prob.shape[-1], dtype="float32")[true[..., 0].astype(int)]


def np_ce(true, prob):
    t, p = _onehot(true, prob), np.clip(prob, EPS, 1 - EPS)
    if p.shape[-1] == 1:
        return -(t * np.log(p) + (1 - t) * np.log(1 - p))
    return -(t * np.log(p)).sum(-1, keepdims=True)


def np_terms(true, prob):
    t, p = _onehot(true, prob), np.clip(prob, EPS, 1 - EPS)
    tp = (t * p).sum((1, 2))
    fp = ((1 - t) * p).sum((1, 2))
    fn = (t * (1 - p)).sum((1, 2))
    fg = slice(None) if p.shape[-1] == 1 else slice(1, None)
    return tp[:, fg], fp[:, fg], fn[:, fg]


def np_dice(true, prob, s=1.0):
    tp, fp, fn = np_terms(true, prob)
    return (1 - (2 * tp + s) / (2 * tp + fp + fn + s)).mean(-1)


def np_iou(true, prob, s=1.0):
    tp, fp, fn = np_terms(true, prob)
    return (1 - (tp + s) / (tp + fp + fn + s)).mean(-1)


def np_tversky_index(true, prob, a=0.3, b=0.7, s=1.0):
    tp, fp, fn = np_terms(true, prob)
    return (tp + s) / (tp + a * fp + b * fn + s)


def np_focal(true, prob, gamma=2.0, alpha=0.25):
    p = np.clip(prob, EPS, 1 - EPS)
    if p.shape[-1] == 1:
        pt = np.where(true == 1, p, 1 - p)
        at = np.where(true == 1, alpha, 1 - alpha)
        return (-at * (1 - pt) ** gamma * np.log(pt)).mean((1, 2, 3))
    t = _onehot(true, prob)
    return (-alpha * (t * (1 - p) ** gamma * np.log(p)).sum(-1)).mean((1, 2))


def np_ssim(true, prob, size=11, sigma=1.5):
    c1, c2 = 0.01**2, 0.03**2
    x = np.arange(size) - (size - 1) / 2
    g = np.exp(-(x**2) / (2 * sigma**2))
    g /= g.sum()
    k = np.outer(g, g)
    out = []
    for b in range(true.shape[0]):
        vals = []
        for c in range(true.shape[-1]):
            def blur(a):
                return ndimage.correlate(a, k, mode="constant")[
                    size // 2: a.shape[0] - size // 2, size // 2: a.shape[1] - size // 2
                ]
            t, p = true[b, ..., c].astype("float64"), prob[b, ..., c].astype("float64")
            mt, mp = blur(t), blur(p)
            vt, vp, cv = blur(t * t) - mt**2, blur(p * p) - mp**2, blur(t * p) - mt * mp
            vals.append(((2 * mt * mp + c1) * (2 * cv + c2)) / ((mt**2 + mp**2 + c1) * (vt + vp + c2)))
        out.append(np.mean(vals))
    return np.array(out)


def _value(name, true, prob, **params):
    return float(L.get_loss(name, **params)(true, prob))


@pytest.mark.parametrize("data", [_binary, _multi])
def test_losses_match_numpy(data):
    true, prob = data()
    p = np.clip(prob, EPS, 1 - EPS)
    ce = np_ce(true, prob).mean()
    refs = {
        "bce": ce,
        "sparse_cce": ce,
        "dice": np_dice(true, prob).mean(),
        "bce_dice": ce + np_dice(true, prob).mean(),
        "iou": np_iou(true, prob).mean(),
        "jaccard": np_iou(true, prob).mean(),
        "tversky": (1 - np_tversky_index(true, prob)).mean(-1).mean(),
        "focal_tversky": ((1 - np_tversky_index(true, prob)) ** 0.75).mean(-1).mean(),
        "focal": np_focal(true, prob).mean(),
        "basnet_hybrid": (
            np_ce(true, prob).mean((1, 2, 3))
            + 1 - np_ssim(_onehot(true, prob), p)
            + np_iou(true, prob)
        ).mean(),
    }
    for name, ref in refs.items():
        np.testing.assert_allclose(_value(name, true, prob), ref, rtol=2e-4, err_msg=name)


def test_weighted_losses_use_weight_map_and_class_weights():
    true, prob = _binary()
    weights = RNG.random(true.shape).astype("float32") * 5
    y = np.concatenate([true, weights], -1)
    ce = np_ce(true, prob)
    np.testing.assert_allclose(_value("weighted_bce", y, prob), (ce * weights).mean(), rtol=1e-4)
    cw = np.where(true == 1, 10.0, 1.0)
    np.testing.assert_allclose(
        _value("weighted_bce", true, prob, class_weights=[1, 10]), (ce * cw).mean(), rtol=1e-4
    )
    np.testing.assert_allclose(
        _value("weighted_bce_dice", y, prob),
        (ce * weights).mean() + np_dice(true, prob).mean(),
        rtol=1e-4,
    )
    # Unweighted losses ignore the weight channel.
    np.testing.assert_allclose(_value("bce_dice", y, prob), _value("bce_dice", true, prob))
    np.testing.assert_allclose(_value("sparse_cce", y, prob), _value("sparse_cce", true, prob))


def test_categorical_cce_class_weights_multiclass():
    true, prob = _multi()
    cw = np.array([1.0, 2.0, 5.0])
    ref = (np_ce(true, prob)[..., 0] * cw[true[..., 0].astype(int)]).mean()
    np.testing.assert_allclose(
        _value("categorical_cce", true, prob, class_weights=cw), ref, rtol=1e-4
    )
    np.testing.assert_allclose(
        _value("sparse_cce", true, prob, class_weights=cw), ref, rtol=1e-4
    )


@pytest.mark.parametrize("fill", [0.0, 1.0])
def test_edge_cases_are_finite(fill):
    true = np.full((2, 16, 16, 1), fill, "float32")
    for prob in (np.zeros_like(true), np.ones_like(true), np.full_like(true, 0.5)):
        for name in L.LOSSES.names():
            value = _value(name, true, prob)
            assert np.isfinite(value), (name, fill)
    # A perfect empty prediction gives zero overlap loss.
    if fill == 0.0:
        assert _value("dice", true, np.zeros_like(true)) < 1e-3  # clipping eps only


def test_legacy_aliases_and_errors():
    assert isinstance(L.get_loss("bce_dice_loss"), L.BCEDiceLoss)
    assert isinstance(L.get_loss("binary_crossentropy"), L.BinaryCrossEntropy)
    with pytest.raises(UnknownNameError, match="Did you mean 'bce_dice'"):
        L.get_loss("bce_dise")
    with pytest.raises(ValueError, match="accepts only"):
        L.get_loss("dice", gamma=2)
    with pytest.raises(ValueError, match="weight map"):
        L.get_loss("bce")(np.zeros((1, 4, 4, 3), "float32"), np.zeros((1, 4, 4, 1), "float32"))


@pytest.mark.parametrize("name", ["bce_dice", "focal_tversky", "categorical_cce"])
def test_serialization_round_trip(name):
    params = {"class_weights": [1.0, 3.0]} if name == "categorical_cce" else {}
    loss = L.get_loss(name, **params)
    restored = keras.losses.deserialize(keras.losses.serialize(loss))
    assert type(restored) is type(loss)
    assert restored.get_config() == loss.get_config()


def test_losses_saved_before_the_package_split_still_load():
    """Models saved before `dl_suite/losses.py` became a package name that module."""
    saved = {"module": "dl_suite.losses", "class_name": "WeightedBCEDiceLoss",
             "registered_name": "dl_suite>WeightedBCEDiceLoss",
             "config": {"name": "weighted_bce_dice", "reduction": "sum_over_batch_size",
                        "class_weights": [1.0, 4.0], "bce_weight": 1.0, "dice_weight": 0.5,
                        "smooth": 1.0}}
    restored = keras.losses.deserialize(saved)
    assert type(restored) is L.WeightedBCEDiceLoss
    assert (restored.class_weights, restored.dice_weight) == ([1.0, 4.0], 0.5)


def test_trains_in_tiny_model_and_reloads(tmp_path):
    inputs = keras.Input((16, 16, 1))
    outputs = keras.layers.Conv2D(1, 3, padding="same", activation="sigmoid")(inputs)
    model = keras.Model(inputs, outputs)
    model.compile("adam", loss=L.get_loss("weighted_bce_dice", class_weights=[1, 2]))
    x = RNG.random((2, 16, 16, 1)).astype("float32")
    y = np.concatenate([(x > 0.5).astype("float32"), np.ones_like(x)], -1)
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    reloaded = keras.saving.load_model(tmp_path / "m.keras")
    assert reloaded.loss.get_config()["class_weights"] == [1.0, 2.0]


def test_onehot_targets_from_the_dataset_score_perfectly():
    """target_type 'onehot' with two classes: a perfect prediction gives Dice 1 and loss ~0
    (the targets used to be (B, H, W, 2) one-hot, read by the losses as target + weights)."""
    from dl_suite.data.dataset import SegmentationDataset
    from dl_suite.metrics import get_metric

    mask = np.zeros((32, 32), np.uint8)
    mask[8:20, 6:26] = 1
    ds = SegmentationDataset([mask.astype("float32")], [mask], batch_size=1, augmentor=None,
                             target_type="onehot", num_classes=2)
    y = ds[0][1]
    perfect = np.eye(2, dtype="float32")[y[..., 0].astype(int)]
    assert float(L.dice_loss(y, perfect)[0]) == pytest.approx(0.0, abs=1e-6)
    assert float(L.get_loss("bce_dice")(y, perfect)) == pytest.approx(0.0, abs=1e-5)
    metric = get_metric("dice_coef", num_classes=2)
    metric.update_state(y, perfect)
    assert float(metric.result()) == pytest.approx(1.0, abs=1e-6)
    wrong = perfect[..., ::-1]
    assert float(L.dice_loss(y, wrong)[0]) > 0.99


IGNORED_LOSSES = ["bce", "bce_dice", "dice", "iou", "tversky", "focal_tversky", "focal",
                  "basnet_hybrid", "weighted_bce", "weighted_bce_dice", "sparse_cce",
                  "categorical_cce", "bce_iou", "ssim"]


@pytest.mark.parametrize("data", [_binary, _multi])
@pytest.mark.parametrize("name", IGNORED_LOSSES)
def test_ignored_pixels_add_nothing(name, data):
    """A target of -1 counts as a perfect background prediction, whatever the model says there."""
    true, prob = data()
    if name in ("bce_iou", "ssim", "weighted_bce", "weighted_bce_dice") and prob.shape[-1] > 1:
        pytest.skip("binary-only loss")
    if name == "categorical_cce" and prob.shape[-1] == 1:
        pytest.skip("multi-class loss")
    region = np.zeros(true.shape, bool)
    region[:, 4:12] = True  # whole rows, so that the image without them is a crop
    ignored = np.where(region, -1.0, true).astype("float32")
    other = prob.copy()
    other[np.broadcast_to(region, prob.shape)] = RNG.random(int(region.sum()) * prob.shape[-1])
    perfect = prob.copy()
    perfect[np.broadcast_to(region, prob.shape)] = 0.0
    if prob.shape[-1] > 1:
        perfect[..., :1][region] = 1.0
    weights = (RNG.random(true.shape) * 3).astype("float32")
    with_w = lambda t: np.concatenate([t, weights], -1)  # noqa: E731
    value = _value(name, with_w(ignored), prob)
    # what the model says in the ignored region changes nothing (fails if -1 were a target) ...
    assert abs(_value(name, with_w(ignored), other) - value) < 1e-5
    # ... and the loss is the one of the image without the ignored rows (pixel means over the
    # scored pixels, overlap sums without them); SSIM keeps the 11 x 11 windows without an
    # ignored pixel: here those inside rows 12-31, the SSIM of that part alone
    crop = lambda a: np.concatenate([a[:, :4], a[:, 12:]], axis=1)  # noqa: E731
    below = lambda a: a[:, 12:]  # noqa: E731
    if name == "ssim":
        assert abs(_value(name, below(with_w(true)), below(prob)) - value) < 2e-5
        assert value > 0.1  # not the 0 of an image without any window left
        return
    if name == "basnet_hybrid":  # its BCE and IoU terms as in the crop, its SSIM term as above
        expected = (_value("bce", crop(with_w(true)), crop(prob))
                    + _value("ssim", below(with_w(true)), below(prob))
                    + _value("iou", crop(with_w(true)), crop(prob)))
        assert abs(expected - value) < 2e-5
        return
    assert abs(_value(name, crop(with_w(true)), crop(prob)) - value) < 2e-5


def test_ignored_pixels_leave_the_cross_entropy_mean_by_hand():
    # 1 x 1 x 4 image: target [1, 0, ignored, ignored], prediction [0.8, 0.3, 0.9, 0.1]
    true = np.array([1, 0, -1, -1], "float32").reshape(1, 1, 4, 1)
    prob = np.array([0.8, 0.3, 0.9, 0.1], "float32").reshape(1, 1, 4, 1)
    # the mean over the two scored pixels: (-log 0.8 - log 0.7) / 2 = 0.289909
    assert abs(_value("bce", true, prob) - 0.289909) < 1e-5
    # an image with every pixel ignored adds 0
    assert _value("bce", np.full((1, 1, 4, 1), -1.0, "float32"), prob) == 0.0


def test_ssim_without_a_whole_scored_window_is_no_loss():
    true, prob = _binary()
    ignored = true.copy()
    ignored[:, ::8] = -1.0  # an ignored row every 8 rows: no 11-row window is free of them
    assert _value("ssim", ignored, prob) == pytest.approx(0.0, abs=1e-6)
    assert _value("ssim", true, prob) > 0.1


def test_ignored_pixels_leave_the_dice_loss_by_hand():
    # 1 x 1 x 4 image: target [1, 1, 0, ignored], prediction [1, 0, 0, 1]
    true = np.array([1, 1, 0, -1], "float32").reshape(1, 1, 4, 1)
    prob = np.array([1, 0, 0, 1], "float32").reshape(1, 1, 4, 1)
    # TP 1, FP 0, FN 1 (the ignored 1 is not a false positive): 1 - (2 + 1) / (2 + 1 + 1)
    assert abs(_value("dice", true, prob) - 0.25) < 1e-5
