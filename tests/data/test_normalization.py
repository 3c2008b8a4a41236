import numpy as np
import pytest

from dl_suite.data.normalization import NORMALIZERS, correct_illumination, normalize
from dl_suite.registry import UnknownNameError


@pytest.mark.parametrize("method", NORMALIZERS.names())
def test_every_method_returns_float32_same_shape(method):
    image = np.random.default_rng(0).integers(0, 255, (32, 32, 2)).astype(np.uint8)
    out = normalize(image, method)
    assert out.shape == image.shape and out.dtype == np.float32 and np.isfinite(out).all()


def test_method_values():
    image = np.arange(100, dtype=np.float32).reshape(10, 10)
    assert normalize(image, "minmax").max() == pytest.approx(1.0)
    assert normalize(image, "PERCENTILE", p_low=0, p_high=100).min() == pytest.approx(0.0)
    assert abs(float(normalize(image, "median").mean())) < 0.05
    assert normalize(image, "clahe").max() <= 1.0


def test_illumination_correction_removes_a_ramp():
    ramp = np.tile(np.linspace(0, 100, 64, dtype=np.float32), (64, 1))
    spots = np.zeros((64, 64), np.float32)
    spots[20:24, 20:24] = 50
    corrected = correct_illumination(ramp + spots, sigma=8)
    background = corrected[40:60, 5:60]
    assert np.ptp(background) < 0.1 * np.ptp(ramp)


def test_unknown_method_suggests():
    with pytest.raises(UnknownNameError, match="Did you mean 'zscore'"):
        normalize(np.zeros((4, 4)), "zscor")
