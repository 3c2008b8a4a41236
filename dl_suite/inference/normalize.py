"""Normalisation applied tile by tile: statistics from a strided sample of the frame.

The run's normalisations that map intensities with image-wide statistics (`none`, `div255`,
`minmax`, `percentile`, `zscore`, `mean`, `median`; see `dl_suite.data.normalization`) are
split into "statistics" (computed once per frame from a strided sample of at most
`SAMPLE_PIXELS` pixels of the lazily opened image, so all of it when the frame is smaller) and
"apply" (per tile, float32, the same formulas). Local methods (`clahe`, `illumination`) return
no tile normaliser: their frames are normalised whole, as before.
"""

import math

import numpy as np

SAMPLE_PIXELS = 4_000_000
GLOBAL_METHODS = ("none", "div255", "255", "minmax", "percentile", "zscore", "mean", "median")


def strided_sample(frame, max_pixels=SAMPLE_PIXELS):
    """Every `step`-th row and column of `frame` (H, W[, C]) with at most `max_pixels` pixels.

    Returns:
        float32 array (the whole frame when it is small enough).
    """
    height, width = frame.shape[:2]
    step = max(1, int(math.ceil(math.sqrt(height * width / max_pixels))))
    return np.asarray(frame[::step, ::step], np.float32)


def _stats(sample, method, p_low, p_high):
    """(offset, scale): normalised = (x - offset) * scale, as float32."""
    if method == "none":
        return 0.0, 1.0
    if method in ("div255", "255"):
        return 0.0, 1.0 / 255.0
    if method == "minmax":
        lo, hi = float(sample.min()), float(sample.max())
        return lo, 1.0 / max(hi - lo, 1e-6)
    if method == "percentile":
        lo, hi = (float(v) for v in np.percentile(sample, [p_low, p_high]))
        return lo, 1.0 / max(hi - lo, 1e-6)
    if method == "zscore":
        return float(sample.mean()), 1.0 / max(float(sample.std()), 1e-6)
    if method == "mean":
        return float(sample.mean()), 1.0 / max(float(sample.max() - sample.min()), 1e-6)
    if method == "median":
        median = float(np.median(sample))
        mad = 1.4826 * float(np.median(np.abs(sample - median)))
        if mad < 1e-6:
            mad = max(float(sample.std()), 1e-6)
        return median, 1.0 / mad
    raise ValueError(f"Normalisation '{method}' has no tile-wise form.")


class TileNormalizer:
    """Fits the run's normalisation on a frame sample; `view(frame)` normalises on access.

    Args:
        method: a key of `dl_suite.data.normalization.NORMALIZERS` in `GLOBAL_METHODS`.
        p_low, p_high: percentiles of the 'percentile' method.
    """

    def __init__(self, method, p_low=1.0, p_high=99.8):
        self.method = str(method).lower()
        self.p_low, self.p_high = p_low, p_high

    def fit(self, frame):
        """(offset, scale) of `frame` (H, W[, C]) from its strided sample."""
        return _stats(strided_sample(frame), self.method, self.p_low, self.p_high)

    def view(self, frame):
        """A lazy, normalised float32 view of `frame` (what the tiler reads)."""
        return NormalizedView(frame, *self.fit(frame))

    def __call__(self, frame):
        """The whole frame normalised (float32)."""
        return self.view(frame)[:, :]


class NormalizedView:
    """Array-like (H, W, C) whose slices are read from `base` and normalised as float32."""

    def __init__(self, base, offset, scale):
        self.base = base
        self.mapped_base = base
        self.offset = np.float32(offset)
        self.scale = np.float32(scale)
        self.shape = tuple(base.shape)
        self.ndim = len(self.shape)
        self.dtype = np.dtype(np.float32)

    def __getitem__(self, index):
        block = np.asarray(self.base[index], np.float32)
        return (block - self.offset) * self.scale

    def __array__(self, dtype=None, copy=None):
        out = self[:, :]
        return out if dtype is None else out.astype(dtype)


def normalizer_from_config(run_cfg):
    """The run's `TileNormalizer`, or None when its normalisation is local (clahe, illumination)."""
    section = run_cfg["image"]
    method = str(section["normalization"]).lower()
    if method not in GLOBAL_METHODS:
        return None
    return TileNormalizer(method, p_low=section.get("p_low", 1.0), p_high=section.get("p_high", 99.8))
