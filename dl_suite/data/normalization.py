"""Intensity normalisation, identical at train, evaluate and infer time.

The method and its parameters are part of the run's resolved config, so a trained model is
always fed images normalised the way it saw them in training.
"""

import numpy as np

from dl_suite.registry import Registry

NORMALIZERS = Registry("normalization")


@NORMALIZERS.register("none")
def _none(image, **_):
    return image.astype(np.float32)


@NORMALIZERS.register("div255", aliases=("255",))
def _div255(image, **_):
    return image.astype(np.float32) / 255.0


@NORMALIZERS.register("minmax")
def _minmax(image, **_):
    image = image.astype(np.float32)
    lo, hi = float(image.min()), float(image.max())
    return (image - lo) / max(hi - lo, 1e-6)


@NORMALIZERS.register("percentile")
def _percentile(image, p_low=1.0, p_high=99.8, **_):
    """CSBDeep-style: map the p_low / p_high percentiles to 0 / 1 (per image)."""
    image = image.astype(np.float32)
    lo, hi = np.percentile(image, [p_low, p_high])
    return (image - lo) / max(float(hi - lo), 1e-6)


@NORMALIZERS.register("zscore")
def _zscore(image, **_):
    image = image.astype(np.float32)
    return (image - image.mean()) / max(float(image.std()), 1e-6)


def normalize(image, method="percentile", **params):
    """Normalises one image (H, W[, C]) to float32 with the named method.

    Args:
        image: numpy array of any numeric dtype.
        method: a key of `NORMALIZERS` (see `NORMALIZERS.names()`).
        **params: method parameters (e.g. `p_low`, `p_high`); unknown ones are ignored.

    Returns:
        float32 array of the same shape.
    """
    return NORMALIZERS.get(method)(np.asarray(image), **params)
