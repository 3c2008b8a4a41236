"""The INI tool's [image] and [mask] filters, checked against hand-computed values."""

import numpy as np
import pytest

from dl_suite.config import config_from_dict
from dl_suite.data.legacy_filters import (
    adjust_gamma, apply_image_filters, apply_mask_filters, convert_color, sharpen,
)
from dl_suite.data.preprocess import prepare_mask, preprocess_image
from dl_suite.errors import ConfigError


def test_gamma_matches_the_lookup_table():
    image = np.array([[0, 64, 255]], dtype=np.uint8)
    out = adjust_gamma(image, 2.0)
    expected = 255 * np.sqrt(np.array([0, 64, 255]) / 255)  # 64 -> 127.75
    np.testing.assert_allclose(out[0], expected, atol=1e-4)
    assert out[0, 1] == pytest.approx(127.749, abs=1e-3)


def test_sharpen_raises_an_edge_and_keeps_flat_regions():
    image = np.zeros((9, 9, 1), np.float32)
    image[:, 5:] = 100
    out = sharpen(image, 1.0)
    assert out[4, 0, 0] == pytest.approx(0, abs=1e-3)  # far from the edge: unchanged
    assert out[4, 5, 0] > 100 and out[4, 4, 0] < 0  # overshoot on both sides of the edge
    # rows are constant, so only the horizontal Gaussian (sigma 1, truncated at 4) acts:
    x = np.arange(-4, 5)
    w = np.exp(-x**2 / 2) / np.exp(-x**2 / 2).sum()
    blurred = 100 * w[x >= 0].sum()  # column 5 sees 100 at offsets >= 0
    assert out[4, 5, 0] == pytest.approx(100 + (100 - blurred), abs=1e-3)


def test_color_converter_reads_images_as_the_ini_tool_did():
    rgb = np.zeros((2, 2, 3), np.uint8)
    rgb[..., 0] = 255  # pure red in RGB
    hsv = convert_color(rgb, "cv2.COLOR_BGR2HSV")
    assert tuple(hsv[0, 0]) == (0, 255, 255)  # red has hue 0 once seen as BGR
    gray = convert_color(rgb, "cv2.COLOR_RGB2GRAY")
    assert gray.shape == (2, 2, 1) and gray[0, 0, 0] == 76  # 0.299 * 255
    with pytest.raises(ConfigError, match="COLOR_BGR2HSV"):
        convert_color(rgb, "cv2.COLOR_BGR2HVS")


def test_image_filters_are_off_by_default():
    image = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
    assert apply_image_filters(image, {"color_converter": None, "gamma": 0, "sharpening": 0}) is image


def test_mask_blur_binarises_at_threshold_and_grayscaling():
    mask = np.zeros((7, 7), np.uint8)
    mask[2:5, 2:5] = 255
    out = apply_mask_filters(mask, {"blur": True, "blur_size": [3, 3], "threshold": 100})
    # 3x3 box mean at a corner of the square = 4/9 * 255 = 113 >= 100; outside it 1/9 * 255 = 28
    assert out[2, 2] == 1 and out[1, 1] == 0 and out[3, 3] == 1
    out = apply_mask_filters(mask, {"blur": True, "blur_size": [3, 3], "threshold": 120})
    assert out[2, 2] == 0 and out[3, 3] == 1 and out[2, 3] == 1  # edge middle: 6/9 * 255 = 170
    rgb = np.zeros((2, 2, 3), np.uint8)
    rgb[0, 0] = (0, 255, 0)
    grey = apply_mask_filters(rgb, {"grayscaling": True})
    assert grey.shape == (2, 2) and grey[0, 0] == 150  # 0.587 * 255


def test_preprocessing_path_applies_them():
    cfg = config_from_dict({"model": {"image_channels": 1}, "image": {"gamma": 2.0, "normalization": "none"},
                            "mask": {"blur": True, "threshold": 120}})
    image = np.array([[0, 64], [255, 255]], dtype=np.uint8)
    out = preprocess_image(image, cfg)
    assert out[0, 1, 0] == pytest.approx(127.749, abs=1e-3)
    mask = np.zeros((7, 7), np.uint8)
    mask[2:5, 2:5] = 1  # a label image counts as 255
    target = prepare_mask(mask, cfg)
    assert target[2, 2] == 0 and target[3, 3] == 1 and target.max() == 1


def test_histogram_equalization_normaliser():
    from dl_suite.data.normalization import normalize

    image = np.array([[0, 0], [10, 200]], np.uint8)
    out = normalize(image, "histogram_equalization")
    # equalize_hist maps each value to its cumulative frequency: 0 -> 2/4, 10 -> 3/4, 200 -> 4/4
    assert out.dtype == np.float32
    assert out[1, 1] == pytest.approx(1.0, abs=1e-3) and out[0, 0] < out[1, 0] < out[1, 1]
    assert out[1, 0] - out[0, 0] == pytest.approx(0.25, abs=0.01)
