"""Training metrics against numpy per-image references."""

import numpy as np
import pytest
import keras

from dl_suite import metrics as M
from dl_suite.registry import UnknownNameError

RNG = np.random.default_rng(1)


def _np_counts(true, prob, threshold=0.5):
    if prob.shape[-1] == 1:
        pred = (prob[..., 0] >= threshold).astype(int)
        k = 2
    else:
        pred = prob.argmax(-1)
        k = prob.shape[-1]
    t = true[..., 0].astype(int)
    tp = np.stack([((t == c) & (pred == c)).sum((1, 2)) for c in range(k)], -1)
    fp = np.stack([((t != c) & (pred == c)).sum((1, 2)) for c in range(k)], -1)
    fn = np.stack([((t == c) & (pred != c)).sum((1, 2)) for c in range(k)], -1)
    return tp.astype(float), fp.astype(float), fn.astype(float), (pred == t).mean((1, 2))


def _div(a, b, empty):
    return np.where(b > 0, a / np.maximum(b, 1), empty)


def np_refs(true, prob):
    tp, fp, fn, acc = _np_counts(true, prob)
    return {
        "dice_coef": _div(2 * tp, 2 * tp + fp + fn, 1.0)[:, 1:].mean(-1).mean(),
        "iou": _div(tp, tp + fp + fn, 1.0)[:, 1:].mean(-1).mean(),
        "precision": _div(tp, tp + fp, (fn == 0).astype(float))[:, 1:].mean(-1).mean(),
        "recall": _div(tp, tp + fn, (fp == 0).astype(float))[:, 1:].mean(-1).mean(),
        "pixel_accuracy": acc.mean(),
        "binary_accuracy": acc.mean(),
    }


def _data(classes):
    true = RNG.integers(0, max(classes, 2), (3, 32, 32, 1)).astype("float32")
    if classes == 1:
        prob = RNG.random((3, 32, 32, 1)).astype("float32")
    else:
        prob = RNG.random((3, 32, 32, classes)).astype("float32")
        prob /= prob.sum(-1, keepdims=True)
    # Image 0: empty truth, so per-image averaging differs from batch-global sums.
    true[0] = 0
    return true, prob


@pytest.mark.parametrize("classes", [1, 3])
def test_metrics_match_numpy_per_image(classes):
    true, prob = _data(classes)
    weights = np.ones_like(true)
    for name, ref in np_refs(true, prob).items():
        metric = M.get_metric(name, num_classes=classes)
        metric.update_state(np.concatenate([true, weights], -1), prob)  # weight map ignored
        np.testing.assert_allclose(float(metric.result()), ref, rtol=1e-5, err_msg=name)


def test_per_image_average_not_batch_global():
    true = np.zeros((2, 8, 8, 1), "float32")
    true[1, :4] = 1
    prob = np.zeros_like(true)
    prob[1, :2] = 1  # image 1: dice 2*16/(32+16) = 2/3; image 0: empty vs empty = 1
    metric = M.get_metric("dice_coef")
    metric.update_state(true, prob)
    np.testing.assert_allclose(float(metric.result()), (1 + 2 / 3) / 2, rtol=1e-6)


def test_empty_vs_empty_is_perfect():
    true = np.zeros((2, 8, 8, 1), "float32")
    for name in ("dice_coef", "iou", "precision", "recall", "pixel_accuracy"):
        metric = M.get_metric(name)
        metric.update_state(true, np.zeros_like(true))
        assert float(metric.result()) == pytest.approx(1.0), name


def test_get_metrics_expands_per_class_and_skips_val():
    metrics = M.get_metrics(["dice_coef", "val_dice_coef", "per_class_iou"], num_classes=3)
    assert [m.name for m in metrics] == ["dice_coef", "iou_class_0", "iou_class_1", "iou_class_2"]
    true, prob = _data(3)
    tp, fp, fn, _ = _np_counts(true, prob)
    metrics[2].update_state(true, prob)
    np.testing.assert_allclose(
        float(metrics[2].result()), _div(tp, tp + fp + fn, 1.0)[:, 1].mean(), rtol=1e-5
    )


def test_legacy_names_keep_their_name_and_errors():
    assert M.get_metric("binary_accuracy").name == "binary_accuracy"
    assert isinstance(M.get_metric("accuracy", num_classes=2), M.PixelAccuracy)
    with pytest.raises(UnknownNameError, match="Did you mean 'dice_coef'"):
        M.get_metric("dice_coeff")
    with pytest.raises(ValueError, match="class_id"):
        M.get_metric("class_iou", num_classes=2, class_id=5)


def test_metric_serialization_and_compile(tmp_path):
    inputs = keras.Input((8, 8, 1))
    outputs = keras.layers.Conv2D(2, 1, activation="softmax")(inputs)
    model = keras.Model(inputs, outputs)
    model.compile("adam", "sparse_categorical_crossentropy",
                  metrics=M.get_metrics(["dice_coef", "iou", "accuracy"], num_classes=2))
    x = RNG.random((2, 8, 8, 1)).astype("float32")
    history = model.fit(x, (x > 0.5).astype("float32"), epochs=1, verbose=0)
    assert {"dice_coef", "iou", "accuracy"} <= set(history.history)
    metric = M.get_metric("class_iou", num_classes=2, class_id=0, threshold=0.3)
    restored = M.ClassIoU.from_config(metric.get_config())
    assert restored.get_config() == metric.get_config()


def test_ignored_pixels_count_in_no_class():
    # 1 x 2 x 3 image; target -1 = ignored
    true = np.array([[1, 1, 0], [0, -1, -1]], "float32").reshape(1, 2, 3, 1)
    prob = np.array([[0.9, 0.2, 0.1], [0.8, 0.9, 0.1]], "float32").reshape(1, 2, 3, 1)
    # scored pixels: TP 1 (0.9), FN 1 (0.2), TN 1 (0.1), FP 1 (0.8); the ignored two do not count
    tp, fp, fn = (np.asarray(v) for v in M.confusion_counts(true, prob))
    assert (tp[0, 1], fp[0, 1], fn[0, 1]) == (1, 1, 1)
    assert abs(float(M.dice_coef(true, prob)[0]) - 2 / 4) < 1e-6
    assert abs(float(M.pixel_accuracy(true, prob)[0]) - 2 / 4) < 1e-6
