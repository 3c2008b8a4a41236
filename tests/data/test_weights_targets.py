import time

import numpy as np
import pytest
from scipy import ndimage

from dl_suite.errors import ConfigError
from dl_suite.data.targets import make_target, resolve_target_type, target_num_classes
from dl_suite.data.weights import border_weight_map, class_balance, unet_weight_map, weight_map
from tests.data.conftest import disk_labels


def slow_unet_weight_map(labels, w0=10.0, sigma=5.0):
    """Textbook reference: one full-image distance transform per cell, sorted per pixel."""
    ids = [i for i in np.unique(labels) if i]
    dists = np.stack([ndimage.distance_transform_edt(labels != i) for i in ids], axis=-1)
    dists.sort(axis=-1)
    d1, d2 = dists[..., 0], dists[..., 1]
    fg = labels > 0
    n_fg, n_bg = fg.sum(), (~fg).sum()
    wc = np.where(fg, max(n_fg, n_bg) / n_fg, max(n_fg, n_bg) / n_bg)
    return wc + w0 * np.exp(-((d1 + d2) ** 2) / (2 * sigma**2)) * (~fg)


def test_unet_weight_map_matches_slow_reference(labels):
    fast = unet_weight_map(labels)
    slow = slow_unet_weight_map(labels)
    assert fast.dtype == np.float32 and fast.shape == labels.shape
    np.testing.assert_allclose(fast, slow, atol=1e-4)
    # the separation between touching cells 1 and 2 carries the largest weights
    assert fast[20, 31] > 5 and fast[2, 2] < 2


def test_unet_weight_map_fast_on_512_with_100_cells():
    rng = np.random.default_rng(0)
    centres = rng.integers(10, 502, size=(100, 2))
    labels = disk_labels((512, 512), centres=[tuple(c) for c in centres], radius=9)
    start = time.perf_counter()
    unet_weight_map(labels)
    assert time.perf_counter() - start < 0.5


def test_binary_mask_is_split_into_instances_and_border_map():
    labels = disk_labels()
    binary = (labels > 0).astype(np.uint8)
    # cells 1 and 2 touch, so a binary mask merges them: fewer separating borders
    assert unet_weight_map(binary).max() <= unet_weight_map(labels).max()
    border = border_weight_map(labels, w0=10, sigma=2)
    assert border.min() >= 1 and border.max() == pytest.approx(11)
    assert weight_map("border", labels).shape == labels.shape
    assert np.allclose(class_balance(labels, None), 1)


def test_targets(labels):
    assert set(np.unique(make_target(labels, "binary"))) == {0, 1}
    contours = make_target(labels, "datagen_contours")
    assert set(np.unique(contours)) == {0, 1, 2}
    # contours lie inside the cells and separate touching ones
    assert np.all(labels[contours == 2] > 0)
    assert resolve_target_type("segmentation", 1) == "binary"
    assert resolve_target_type("segmentation", 3) == "multiclass"
    assert target_num_classes("contours", 3) == 3
    with pytest.raises(ConfigError, match="num_classes = 3"):
        target_num_classes("datagen_contours", 1)
    classes = make_target(np.minimum(labels, 2), "multiclass", num_classes=3)
    assert classes.max() == 2


def test_distance_levels_are_the_relative_distance_to_each_objects_edge_in_equal_steps():
    square = np.zeros((7, 7), np.uint8)
    square[1:6, 1:6] = 1  # edge ring d = 1, next ring d = 2, centre d = 3 = d_max
    levels = make_target(square, "distance", num_classes=4)  # 3 levels: level = d here
    expected = np.zeros((7, 7), np.uint8)
    expected[1:6, 1:6] = 1
    expected[2:5, 2:5] = 2
    expected[3, 3] = 3
    np.testing.assert_array_equal(levels, expected)
    # two 3x3 objects touching at a corner (two 4-connected components of one binary mask):
    # the touching pixels are edge (level 1), the centre (d = sqrt 2 without them) is level 4,
    # the other pixels d = 1: ceil(4 / sqrt 2) = 3
    pair = np.zeros((8, 8), np.uint8)
    pair[1:4, 1:4] = pair[4:7, 4:7] = 255
    levels = make_target(pair, "segmentation_distance", num_classes=5)
    block = np.array([[3, 3, 3], [3, 4, 3], [3, 3, 1]])
    np.testing.assert_array_equal(levels[1:4, 1:4], block)
    np.testing.assert_array_equal(levels[4:7, 4:7], block[::-1, ::-1])
    assert (levels[pair == 0] == 0).all()
    # a one-pixel object is its own centre
    dot = np.zeros((5, 5), np.uint8)
    dot[2, 2] = 1
    assert make_target(dot, "distance", num_classes=5)[2, 2] == 4
    assert resolve_target_type("distance_transform", 1) == "distance"
    assert target_num_classes("distance", 5) == 5
    with pytest.raises(ConfigError, match="num_classes to 3 or more"):
        target_num_classes("distance", 2)
