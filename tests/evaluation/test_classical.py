"""The classical baseline (Gaussian smoothing + Otsu) of the project results tables."""

import numpy as np

from dl_suite.evaluation import evaluate_images, gaussian_otsu


def _disks(seed=0, size=64):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    mask = np.zeros((size, size), bool)
    for r, c in ((16, 16), (16, 46), (46, 30)):
        mask |= (yy - r) ** 2 + (xx - c) ** 2 <= 64
    image = mask * 100.0 + 20.0 + rng.normal(0, 25, mask.shape)
    return image.astype(np.float32), mask


def test_smoothing_then_otsu_finds_noisy_disks():
    image, mask = _disks()
    found = gaussian_otsu(image, sigma=2.0)
    raw = gaussian_otsu(image, sigma=0.0)
    _, smooth = evaluate_images([found], [mask])
    _, noisy = evaluate_images([raw], [mask])
    assert smooth["mean"]["dice"] > 0.9
    assert smooth["mean"]["f1_50"] == 1.0  # three disks, no specks
    assert noisy["mean"]["f1_50"] < smooth["mean"]["f1_50"]  # the smoothing is what helps


def test_invert_min_size_and_flat_image():
    image, mask = _disks()
    inverted = gaussian_otsu(image[..., None], sigma=2.0, invert=True)
    assert inverted.shape == mask.shape and (inverted & mask).mean() < 0.01
    speck = np.zeros((32, 32), np.float32)
    speck[4:6, 4:6] = 1.0
    speck[10:20, 10:20] = 1.0
    assert gaussian_otsu(speck, 0, min_size=10).sum() == 100
    assert not gaussian_otsu(np.ones((8, 8)), 1.0).any()
