import numpy as np
import pytest


def disk_labels(shape=(64, 64), centres=((20, 20), (20, 42), (45, 30)), radius=9):
    """An instance label image of (possibly touching) disks."""
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    labels = np.zeros(shape, np.int32)
    for i, (r, c) in enumerate(centres, start=1):
        labels[(yy - r) ** 2 + (xx - c) ** 2 <= radius ** 2] = i
    return labels


@pytest.fixture
def labels():
    return disk_labels()


@pytest.fixture
def pairs():
    rng = np.random.default_rng(0)
    images, masks = [], []
    for k in range(3):
        lab = disk_labels(centres=((16 + 4 * k, 16), (40, 44 - 3 * k)), radius=8 + k)
        images.append((lab > 0).astype(np.float32)[..., None] + 0.1 * rng.random((64, 64, 1), np.float32))
        masks.append((lab > 0).astype(np.uint8))
    return images, masks
