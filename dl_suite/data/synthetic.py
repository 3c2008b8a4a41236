"""Synthetic fluorescence-nuclei images with exact instance labels (no download needed).

Nuclei are ellipses of random size, orientation and brightness, some touching; the image adds
a blurred point-spread, an uneven background, Poisson shot noise and camera read noise, so a
model trained on it faces the same problems as on real nuclear-stain images.
"""

import numpy as np
from scipy import ndimage


def _ellipse_mask(shape, center, axes, angle):
    rows, cols = np.ogrid[: shape[0], : shape[1]]
    dy, dx = rows - center[0], cols - center[1]
    cos, sin = np.cos(angle), np.sin(angle)
    u = (dx * cos + dy * sin) / axes[1]
    v = (-dx * sin + dy * cos) / axes[0]
    return u * u + v * v <= 1.0


def synthetic_nuclei(shape=(128, 128), num_nuclei=None, radius=(5, 11), seed=0, bit_depth=8):
    """One synthetic nuclei image and its instance label image.

    Args:
        shape: (height, width).
        num_nuclei: nuclei to place (default: scaled with the image area).
        radius: (min, max) semi-axis length in pixels.
        seed: random seed (same seed, same image).
        bit_depth: 8 or 16 (the image dtype is uint8 or uint16).

    Returns:
        (image, labels): image uint8/uint16 (H, W); labels uint16 (H, W), 0 = background.
    """
    rng = np.random.default_rng(seed)
    height, width = shape
    if num_nuclei is None:
        num_nuclei = max(3, int(height * width / (28 * 28)))
    labels = np.zeros(shape, np.uint16)
    brightness = np.zeros(shape, np.float32)
    placed = 0
    for _ in range(num_nuclei * 6):
        if placed == num_nuclei:
            break
        axes = rng.uniform(radius[0], radius[1], size=2)
        center = rng.uniform([axes.max(), axes.max()], [height - axes.max(), width - axes.max()])
        nucleus = _ellipse_mask(shape, center, axes, rng.uniform(0, np.pi))
        # Allow slight contact with neighbours (touching nuclei) but no real overlap.
        if (labels[nucleus] > 0).mean() > 0.02:
            continue
        placed += 1
        nucleus &= labels == 0
        labels[nucleus] = placed
        brightness[nucleus] = rng.uniform(0.45, 1.0)
    texture = ndimage.gaussian_filter(rng.normal(0, 1, shape), 1.5).astype(np.float32)
    signal = brightness * (1.0 + 0.25 * texture)
    signal = ndimage.gaussian_filter(signal, 1.2)
    yy, xx = np.mgrid[:height, :width] / max(height, width)
    background = 0.06 + 0.08 * (rng.uniform() * yy + rng.uniform() * xx)
    photons = 60.0
    noisy = rng.poisson(np.clip(signal + background, 0, None) * photons) / photons
    noisy = noisy + rng.normal(0, 0.02, shape)
    maximum = 255 if bit_depth == 8 else 4095
    image = np.clip(noisy / 1.3, 0, 1) * maximum
    dtype = np.uint8 if bit_depth == 8 else np.uint16
    return image.astype(dtype), labels


def synthetic_dataset(num_images, shape=(128, 128), seed=0, **kwargs):
    """A list of `synthetic_nuclei` (image, labels) pairs with seeds seed, seed+1, ..."""
    return [synthetic_nuclei(shape, seed=seed + i, **kwargs) for i in range(num_images)]
