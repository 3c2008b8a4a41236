"""Attack budgets: grey levels of the raw image -> units of the model's (normalised) input.

A budget of `e` grey levels means e/255 of the image's dynamic range: 255 for 8-bit images,
max - min of the image otherwise. The run's normalisation is affine per image for the methods
in `AFFINE_NORMALISATIONS`, so the budget in model-input units is
e/255 * dynamic range * slope, the slope being that of the normalisation on this image.
"""

import numpy as np

from dl_suite.errors import UserError

AFFINE_NORMALISATIONS = ("none", "div255", "minmax", "percentile", "zscore", "mean", "median")


def check_epsilons(epsilons):
    """Raises UserError for a budget outside [0, 1] of the dynamic range (0..255 grey levels)."""
    bad = [e for e in epsilons if not 0 <= float(e) <= 255]
    if bad:
        raise UserError(
            f"Received epsilon(s) {bad} grey levels; expected 0..255 (a fraction 0..1 of the dynamic "
            "range, in grey levels of 255, e.g. [1, 2, 4, 8, 16, 32]). Fix [robustness] epsilons."
        )


def check_normalisation(run_cfg, run_dir="the run"):
    """Raises UserError when the run's normalisation is unknown or not affine."""
    method = run_cfg["image"].get("normalization") if "image" in run_cfg else None
    if method not in AFFINE_NORMALISATIONS:
        raise UserError(
            f"Cannot convert attack budgets through the normalisation of {run_dir}: received "
            f"[image] normalization = {method!r}, expected one of {', '.join(AFFINE_NORMALISATIONS)} "
            "(affine per image). Attack a run trained with one of these, or set [robustness] attacks = []."
        )
    return method


def dynamic_range(raw):
    """255 for 8-bit data, else the image's own max - min (at least 1e-6)."""
    raw = np.asarray(raw)
    if raw.dtype in (np.uint8, np.int8, bool):
        return 255.0
    return max(float(raw.max()) - float(raw.min()), 1e-6)


def normalisation_slope(raw, normalised):
    """d(normalised)/d(raw) of an affine normalisation, by least squares over the pixels."""
    raw = np.asarray(raw, np.float64).ravel()
    normalised = np.asarray(normalised, np.float64).ravel()
    spread = raw - raw.mean()
    variance = float((spread**2).sum())
    return float((spread * (normalised - normalised.mean())).sum() / variance) if variance > 0 else 1.0


def input_budget(epsilon, raw, normalised):
    """`epsilon` grey levels (of 255) in the model-input units of this image."""
    check_epsilons([epsilon])
    return float(epsilon) / 255.0 * dynamic_range(raw) * normalisation_slope(raw, normalised)
