"""Image corruptions of the robustness assay: a registry keyed by family, five severities each.

Every corruption acts on raw intensities (before the run's normalisation), is seeded, and
returns the corrupted image with the parameters it drew. Noise families are specified by the
SNR of `dl_suite.robustness.snr` (mean foreground signal above background / noise std).

Families and their five default severity levels (the value per severity 1..5):

=================  ===========================  =======================================
family             level                        what it does
=================  ===========================  =======================================
gaussian_noise     SNR 6, 4, 3, 2, 1            additive Gaussian noise
poisson_gaussian   SNR 6, 4, 3, 2, 1            shot (Poisson) + read (Gaussian) noise,
                                                half of the variance each at the foreground
(noise draws are rescaled so the achieved SNR on each image is the requested one exactly)
defocus_blur       PSF sigma 1, 2, 3, 4, 6 px   Gaussian point spread function
motion_blur        length 3, 5, 9, 13, 17 px    line kernel at a seeded angle
vignetting         falloff 0.15 ... 0.75        illumination 1 - s r^2, seeded centre
contrast           factor 0.7 ... 0.15          I' = mean + c (I - mean)
gamma              gamma 1.3 ... 3.0            over the image's own min..max
bit_depth          6, 5, 4, 3, 2 bits           quantised over the image's own min..max
photobleaching     bleached 0.2 ... 0.9         signal above offset decays exp(-k t) over
                                                the frames; a single image gets the last frame's
=================  ===========================  =======================================
"""

import dataclasses

import cv2
import numpy as np
from scipy import ndimage

from dl_suite.registry import Registry
from dl_suite.robustness.snr import added_noise_sigma, foreground_mask, signal_level

CORRUPTIONS = Registry("corruption")
SNR_LEVELS = (6.0, 4.0, 3.0, 2.0, 1.0)


@dataclasses.dataclass(frozen=True)
class Corruption:
    """One family: `apply(image, level, rng, context) -> (image, params)` on (T, Y, X, C) floats."""

    name: str
    unit: str
    levels: tuple
    apply: callable
    uses_snr: bool = False


def _register(name, unit, levels, uses_snr=False):
    def decorator(function):
        CORRUPTIONS.register(name)(Corruption(name, unit, tuple(levels), function, uses_snr))
        return function

    return decorator


def _background(image, foreground):
    grey = image.mean(axis=-1)
    return float(grey[~foreground].mean()) if (~foreground).any() else 0.0


def _exact_std(noise, sigma, foreground):
    """Rescales a noise draw so its std over the foreground is exactly `sigma` (the draw's own
    sampling error would otherwise move the achieved SNR by a few percent on small images)."""
    return noise * (sigma / max(float(noise[foreground].std()), 1e-12))


@_register("gaussian_noise", "SNR", SNR_LEVELS, uses_snr=True)
def _gaussian_noise(image, snr, rng, ctx):
    fg = ctx["foreground"]
    sigma = added_noise_sigma(signal_level(image, fg), snr, ctx.get("input_snr"))
    return image + _exact_std(rng.normal(0.0, sigma, image.shape), sigma, fg), {"sigma": sigma}


@_register("poisson_gaussian", "SNR", SNR_LEVELS, uses_snr=True)
def _poisson_gaussian(image, snr, rng, ctx):
    fg = ctx["foreground"]
    sigma = added_noise_sigma(signal_level(image, fg), snr, ctx.get("input_snr"))
    shot_fraction = 0.5
    photons = np.clip(image - _background(image, fg), 0.0, None)
    gain = shot_fraction * sigma**2 / max(float(photons.mean(axis=-1)[fg].mean()), 1e-12)
    shot = gain * rng.poisson(photons / gain) - photons
    read = float(np.sqrt(1.0 - shot_fraction)) * sigma
    noisy = image + _exact_std(shot + rng.normal(0.0, read, image.shape), sigma, fg)
    return noisy, {"sigma": sigma, "gain": gain, "read_sigma": read}


@_register("defocus_blur", "PSF sigma (px)", (1, 2, 3, 4, 6))
def _defocus(image, sigma, rng, ctx):
    return ndimage.gaussian_filter(image, sigma=(0, sigma, sigma, 0), mode="reflect"), {}


def motion_kernel(length, angle_deg):
    """A normalised line kernel of `length` px at `angle_deg` (anti-aliased)."""
    size = int(length) | 1
    canvas = np.zeros((size, size), np.uint8)
    centre, half = size // 2, (length - 1) / 2.0
    dx, dy = half * np.cos(np.deg2rad(angle_deg)), half * np.sin(np.deg2rad(angle_deg))
    scale = 16  # cv2 sub-pixel coordinates (4 fractional bits)
    start = (round((centre - dx) * scale), round((centre - dy) * scale))
    end = (round((centre + dx) * scale), round((centre + dy) * scale))
    cv2.line(canvas, start, end, 255, 1, cv2.LINE_AA, shift=4)
    kernel = canvas.astype(np.float64)
    return kernel / kernel.sum()


@_register("motion_blur", "length (px)", (3, 5, 9, 13, 17))
def _motion(image, length, rng, ctx):
    angle = float(rng.uniform(0.0, 180.0))
    kernel = motion_kernel(length, angle).astype(np.float32)
    out = np.empty_like(image)
    for t in range(image.shape[0]):
        for c in range(image.shape[3]):
            out[t, ..., c] = cv2.filter2D(image[t, ..., c].astype(np.float32), -1, kernel,
                                          borderType=cv2.BORDER_REFLECT)
    return out, {"angle_deg": angle}


@_register("vignetting", "falloff", (0.15, 0.3, 0.45, 0.6, 0.75))
def _vignetting(image, strength, rng, ctx):
    h, w = image.shape[1:3]
    cy, cx = (h - 1) / 2 + rng.uniform(-0.2, 0.2) * h, (w - 1) / 2 + rng.uniform(-0.2, 0.2) * w
    yy, xx = np.mgrid[0:h, 0:w]
    radius = np.hypot((yy - cy) / (h / 2), (xx - cx) / (w / 2)) / np.sqrt(2)
    field = np.clip(1.0 - strength * radius**2, 0.0, 1.0)
    return image * field[None, :, :, None], {"centre_yx": [float(cy), float(cx)]}


@_register("contrast", "factor", (0.7, 0.5, 0.35, 0.25, 0.15))
def _contrast(image, factor, rng, ctx):
    mean = float(image.mean())
    return mean + factor * (image - mean), {}


def _unit_range(image):
    lo, hi = float(image.min()), float(image.max())
    return lo, max(hi - lo, 1e-12)


@_register("gamma", "gamma", (1.3, 1.6, 2.0, 2.5, 3.0))
def _gamma(image, gamma, rng, ctx):
    lo, span = _unit_range(image)
    return lo + span * ((image - lo) / span) ** gamma, {}


@_register("bit_depth", "bits", (6, 5, 4, 3, 2))
def _bit_depth(image, bits, rng, ctx):
    lo, span = _unit_range(image)
    steps = 2 ** int(bits) - 1
    return lo + span * np.round((image - lo) / span * steps) / steps, {}


@_register("photobleaching", "bleached fraction", (0.2, 0.4, 0.6, 0.75, 0.9))
def _photobleaching(image, fraction, rng, ctx):
    offset = float(np.percentile(image, 1))
    rate = -np.log(1.0 - fraction)
    frames = image.shape[0]
    times = np.linspace(0.0, 1.0, frames) if frames > 1 else np.ones(1)
    decay = np.exp(-rate * times)[:, None, None, None]
    return offset + (image - offset) * decay, {"rate_per_series": float(rate)}


def _to_tyxc(image, time_axis):
    array = np.asarray(image, np.float64)
    if not time_axis:
        array = array[None]
    return array[..., None] if array.ndim == 3 else array


def corrupt(image, family, severity=None, *, level=None, mask=None, seed=0, input_snr=None,
            time_axis=False, clip=None):
    """Corrupts one image (or one time-lapse) with a family at a severity or an explicit level.

    Args:
        image: raw intensities, (Y, X) or (Y, X, C); with `time_axis`, (T, Y, X[, C]).
        family: a key of `CORRUPTIONS`.
        severity: 1..5, picks the family's default level (ignored when `level` is given).
        level: the family's parameter itself (e.g. an SNR for noise families).
        mask: the true foreground (labels or 0/1), used for the SNR; Otsu's threshold if None.
        seed: the RNG seed (the same seed gives the same corruption).
        input_snr: SNR the input already has (noise families add only the missing noise).
        clip: optional (low, high) the result is clipped to, e.g. the image dtype's range.

    Returns:
        (corrupted float32 array shaped like `image`, params dict incl. family and level).

    Raises:
        UnknownNameError: unknown family. UserError: a severity outside 1..5 or an SNR the
            image cannot reach.
    """
    from dl_suite.errors import UserError

    spec = CORRUPTIONS.get(family)
    if level is None:
        if severity not in range(1, len(spec.levels) + 1):
            raise UserError(f"Received severity {severity!r} for '{family}'; expected 1..{len(spec.levels)}.")
        level = spec.levels[severity - 1]
    array = _to_tyxc(image, time_axis)
    ctx = {"input_snr": input_snr, "foreground": foreground_mask(array, mask)}
    out, params = spec.apply(array, level, np.random.default_rng(seed), ctx)
    if clip is not None:
        out = np.clip(out, *clip)
    out = out.reshape(np.shape(image)).astype(np.float32)
    return out, {"family": spec.name, "severity": severity, "level": level, "unit": spec.unit,
                 "seed": seed, **params}
