"""Intensity normalisation, identical at train, evaluate and infer time.

The method and its parameters are part of the run's resolved config, so a trained model is
always fed images normalised the way it saw them in training.
"""

import cv2
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
    lo, hi = (float(v) for v in np.percentile(image, [p_low, p_high]))
    return (image - np.float32(lo)) * np.float32(1.0 / max(hi - lo, 1e-6))


@NORMALIZERS.register("zscore")
def _zscore(image, **_):
    image = image.astype(np.float32)
    return (image - image.mean()) / max(float(image.std()), 1e-6)


@NORMALIZERS.register("mean")
def _mean(image, **_):
    """Centred on the mean, scaled by the intensity range: (image - mean) / (max - min)."""
    image = image.astype(np.float32)
    return (image - image.mean()) / max(float(image.max() - image.min()), 1e-6)


@NORMALIZERS.register("median")
def _median(image, **_):
    """Robust z-score: (image - median) / (1.4826 * median absolute deviation)."""
    image = image.astype(np.float32)
    median = float(np.median(image))
    mad = 1.4826 * float(np.median(np.abs(image - median)))
    if mad < 1e-6:
        mad = max(float(image.std()), 1e-6)
    return (image - median) / mad


def _per_channel(image, function):
    if image.ndim == 2:
        return function(image)
    return np.stack([function(image[..., c]) for c in range(image.shape[-1])], axis=-1)


@NORMALIZERS.register("clahe")
def _clahe(image, clahe_clip_limit=2.0, clahe_tile_size=8, **_):
    """Contrast-limited adaptive histogram equalisation (per channel), output in [0, 1]."""
    clahe = cv2.createCLAHE(clipLimit=float(clahe_clip_limit),
                            tileGridSize=(int(clahe_tile_size), int(clahe_tile_size)))

    def one(channel):
        scaled = _minmax(channel) * 65535.0
        return clahe.apply(np.round(scaled).astype(np.uint16)).astype(np.float32) / 65535.0

    return _per_channel(image, one)


def correct_illumination(image, sigma=50.0):
    """Uneven-illumination correction: subtracts the background estimated by a large Gaussian.

    Args:
        image: (H, W) or (H, W, C).
        sigma: background scale in pixels (larger than the objects).
    """
    image = image.astype(np.float32)
    background = cv2.GaussianBlur(image, (0, 0), float(sigma), borderType=cv2.BORDER_REFLECT_101)
    return image - background.reshape(image.shape)


@NORMALIZERS.register("illumination", aliases=("uneven_illumination", "background"))
def _illumination(image, illumination_sigma=50.0, p_low=1.0, p_high=99.8, **_):
    """Background subtraction (`correct_illumination`) followed by percentile normalisation."""
    return _percentile(correct_illumination(image, illumination_sigma), p_low=p_low, p_high=p_high)


def normalize(image, method="percentile", **params):
    """Normalises one image (H, W[, C]) to float32 with the named method.

    Args:
        image: numpy array of any numeric dtype.
        method: a key of `NORMALIZERS` (see `NORMALIZERS.names()`).
        **params: method parameters (`p_low`, `p_high`, `clahe_clip_limit`, `clahe_tile_size`,
            `illumination_sigma`); unknown ones are ignored.

    Returns:
        float32 array of the same shape.
    """
    out = NORMALIZERS.get(str(method).lower())(np.asarray(image), **params)
    return out.astype(np.float32, copy=False)


from dl_suite.data import legacy_filters  # noqa: E402,F401  (registers histogram_equalization)
