"""Losses, metrics and the activation that the INI tool's configs name, against hand-computed values."""

import keras
import numpy as np
import pytest

from dl_suite.losses import LOSSES, get_loss
from dl_suite.losses.legacy import bce_iou_loss, ssim_loss
from dl_suite.metrics import get_metric
from dl_suite.metrics_legacy import specificity

Y_TRUE = np.array([1, 0, 1, 0], np.float32).reshape(1, 2, 2, 1)
Y_PRED = np.array([0.8, 0.2, 0.6, 0.4], np.float32).reshape(1, 2, 2, 1)


def test_bce_iou_hand_computed():
    bce = (-np.log(0.8) - np.log(0.6)) / 2  # 0.366985
    iou = (1.4 + 1) / (1.4 + 0.6 + 0.6 + 1)  # soft TP 1.4, FP 0.6, FN 0.6, smooth 1
    value = float(bce_iou_loss(Y_TRUE, Y_PRED)[0])
    assert value == pytest.approx(bce + 1 - iou, abs=1e-5)
    assert float(get_loss("bce_iou_loss")(Y_TRUE, Y_PRED)) == pytest.approx(value, abs=1e-6)


def test_ssim_loss_constant_images():
    y_true = np.ones((1, 12, 12, 1), np.float32)
    y_pred = np.full((1, 12, 12, 1), 0.5, np.float32)
    c1 = 0.01**2
    expected = 1 - (2 * 1 * 0.5 + c1) / (1 + 0.25 + c1)  # variances and covariance are 0
    assert float(ssim_loss(y_true, y_pred)[0]) == pytest.approx(expected, abs=1e-5)
    assert float(ssim_loss(y_true, y_true)[0]) == pytest.approx(0.0, abs=1e-5)


def test_specificity_hand_computed():
    y_true = np.array([1, 0, 0, 0], np.float32).reshape(1, 2, 2, 1)
    y_pred = np.array([0.9, 0.7, 0.1, 0.2], np.float32).reshape(1, 2, 2, 1)
    assert float(specificity(y_true, y_pred)[0]) == pytest.approx(2 / 3, abs=1e-6)  # TN 2, FP 1
    metric = get_metric("specificity")
    metric.update_state(y_true, y_pred)
    assert float(metric.result()) == pytest.approx(2 / 3, abs=1e-6)


@pytest.mark.parametrize("name", ["bce_iou", "ssim"])
def test_losses_serialize(name):
    loss = get_loss(name)
    again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(loss))
    assert type(again) is type(loss)
    assert float(again(Y_TRUE, Y_PRED)) == pytest.approx(float(loss(Y_TRUE, Y_PRED)), abs=1e-6)


def test_specificity_serializes():
    metric = get_metric("specificity", threshold=0.3)
    again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(metric))
    assert again.threshold == 0.3 and again.name == "specificity"


def test_mish_reference_values_and_schema():
    x = np.array([-1.0, 0.0, 1.0], np.float32)
    expected = x * np.tanh(np.log1p(np.exp(x)))  # -0.3034015, 0, 0.8650984
    out = keras.ops.convert_to_numpy(keras.activations.get("mish")(x))
    np.testing.assert_allclose(out, expected, atol=1e-6)
    assert out[2] == pytest.approx(0.8650984, abs=1e-6)
    layer = keras.layers.Activation("mish")
    assert keras.layers.Activation.from_config(layer.get_config()).activation is layer.activation


def test_registry_names_match_schema_enum():
    from dl_suite.config.schema import section_properties

    assert {"bce_iou", "ssim"} <= set(section_properties()["model"]["loss"]["enum"])
    assert set(section_properties()["model"]["loss"]["enum"]) == set(LOSSES.names())
