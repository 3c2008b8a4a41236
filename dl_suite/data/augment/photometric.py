"""Photometric transforms: they change the image only, never the mask or the weight map.

Images arrive normalised (float32, roughly [0, 1] for percentile/min-max normalisation), so
intensity parameters are relative to that range; `beta` keeps its legacy 8-bit meaning and is
divided by 255.
"""

import cv2
import numpy as np

from dl_suite.data.augment.base import Transform, as_range, register


class PhotometricTransform(Transform):
    kind = "photometric"

    def apply(self, image, params, rng):  # pragma: no cover - abstract
        raise NotImplementedError


@register("brightening", aliases=("brightness", "contrast"))
class BrightnessContrast(PhotometricTransform):
    """out = (image - mean) * a + mean + b, a ~ U(min(1, alpha), max(1, alpha)),
    b ~ U(-beta, beta) / 255 (beta in legacy 8-bit grey levels)."""

    def __init__(self, alpha=1.2, beta=10.0, p=0.5):
        super().__init__(p)
        self.alpha = float(alpha)
        self.beta = float(beta)
        if self.alpha <= 0:
            raise ValueError(f"Received `[brightening] alpha={alpha!r}`, expected > 0 (e.g. 1.2).")

    def draw(self, rng, shape):
        a = rng.uniform(min(1.0, self.alpha), max(1.0, self.alpha))
        b = rng.uniform(-abs(self.beta), abs(self.beta)) / 255.0
        return a, b

    def apply(self, image, params, rng):
        a, b = params
        mean = image.mean(axis=(0, 1), keepdims=True)
        return ((image - mean) * np.float32(a) + (mean + np.float32(b))).astype(np.float32)


@register("gamma")
class Gamma(PhotometricTransform):
    """Gamma correction with gamma ~ U(gamma_range) on the image's own [min, max] range."""

    def __init__(self, gamma_range=(0.7, 1.5), p=0.5):
        super().__init__(p)
        self.gamma_range = as_range("gamma_range", gamma_range, low=1.0)
        if self.gamma_range[0] <= 0:
            raise ValueError(f"Received `gamma_range={gamma_range!r}`; gammas must be > 0.")

    def draw(self, rng, shape):
        return rng.uniform(*self.gamma_range)

    def apply(self, image, gamma, rng):
        lo, hi = float(image.min()), float(image.max())
        if hi - lo < 1e-12:
            return image
        scaled = (image - np.float32(lo)) * np.float32(1.0 / (hi - lo))
        return (np.power(scaled, np.float32(gamma)) * np.float32(hi - lo) + np.float32(lo))


@register("noise", aliases=("gaussian_noise",))
class GaussianNoise(PhotometricTransform):
    """Additive Gaussian noise with standard deviation ~ U(0, noise_std) (normalised units)."""

    def __init__(self, noise_std=0.05, p=0.5):
        super().__init__(p)
        self.noise_std = float(noise_std)
        if self.noise_std < 0:
            raise ValueError(f"Received `noise_std={noise_std!r}`, expected >= 0.")

    def draw(self, rng, shape):
        return rng.uniform(0.0, self.noise_std)

    def apply(self, image, std, rng):
        noise = rng.standard_normal(size=image.shape, dtype=np.float32)
        noise *= np.float32(std)
        return image + noise


@register("poisson", aliases=("poisson_noise", "shot_noise"))
class PoissonNoise(PhotometricTransform):
    """Shot noise: the image's [min, max] range is mapped to `poisson_peak` photons and resampled."""

    def __init__(self, poisson_peak=(20.0, 200.0), p=0.5):
        super().__init__(p)
        self.poisson_peak = as_range("poisson_peak", poisson_peak, low=1.0)
        if self.poisson_peak[0] <= 0:
            raise ValueError(f"Received `poisson_peak={poisson_peak!r}`; photon counts must be > 0.")

    def draw(self, rng, shape):
        return rng.uniform(*self.poisson_peak)

    def apply(self, image, peak, rng):
        lo, hi = float(image.min()), float(image.max())
        if hi - lo < 1e-12:
            return image
        scale = peak / (hi - lo)
        counts = rng.poisson((image - np.float32(lo)) * np.float32(scale))
        return (counts.astype(np.float32) * np.float32(1.0 / scale) + np.float32(lo))


@register("blur", aliases=("gaussian_blur",))
class GaussianBlur(PhotometricTransform):
    """Gaussian blur with sigma ~ U(blur_sigma) pixels (a number s means [0.1, s])."""

    def __init__(self, blur_sigma=(0.1, 1.5), p=0.5):
        super().__init__(p)
        self.blur_sigma = as_range("blur_sigma", blur_sigma, low=0.1)
        if self.blur_sigma[0] <= 0:
            raise ValueError(f"Received `blur_sigma={blur_sigma!r}`; sigmas must be > 0.")

    def draw(self, rng, shape):
        return rng.uniform(*self.blur_sigma)

    def apply(self, image, sigma, rng):
        out = cv2.GaussianBlur(image, (0, 0), sigma, borderType=cv2.BORDER_REFLECT_101)
        return out.reshape(image.shape)


@register("sharpening", aliases=("sharpen",))
class Sharpening(PhotometricTransform):
    """The legacy 3x3 sharpening kernel [[-k]*3, [-k, 1 + 8k, -k], [-k]*3]."""

    def __init__(self, k=1.0, p=0.5):
        super().__init__(p)
        self.k = float(k)

    def draw(self, rng, shape):
        return self.k

    def apply(self, image, k, rng):
        kernel = np.full((3, 3), -k, dtype=np.float32)
        kernel[1, 1] = 1.0 + 8.0 * k
        out = cv2.filter2D(image, -1, kernel, borderType=cv2.BORDER_REFLECT_101)
        return out.reshape(image.shape)
