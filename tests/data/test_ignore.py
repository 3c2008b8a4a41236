import numpy as np
import pytest

from dl_suite.data.dataset import SegmentationDataset
from dl_suite.data.ignore import IGNORE_TARGET, mark_ignored, split_ignored
from dl_suite.data.targets import make_target
from tests.data.conftest import disk_labels


def test_marking_keeps_the_labels_and_is_undone_exactly(labels):
    ignore = np.zeros(labels.shape, bool)
    ignore[10:30, 15:50] = True
    marked = mark_ignored(labels, ignore)
    assert marked.dtype == np.int32 and (marked < 0).sum() == ignore.sum()
    back, found = split_ignored(marked)
    assert np.array_equal(back, labels) and np.array_equal(found, ignore)
    # marking an already marked mask again marks the union once, never twice
    more = np.zeros_like(ignore)
    more[40:50, 20:40] = True
    back, found = split_ignored(mark_ignored(marked, more))
    assert np.array_equal(back, labels) and np.array_equal(found, ignore | more)
    assert split_ignored(labels)[1] is None
    with pytest.raises(ValueError, match="same size"):
        mark_ignored(labels, ignore[:10])


def test_ignored_pixels_move_with_image_and_mask(pairs):
    """The image's second channel shows the ignored square: after flips and rotations the
    target must hold -1 exactly there, and the target elsewhere must follow the mask."""
    images, masks = pairs
    ignore = np.zeros((64, 64), bool)
    ignore[5:25, 30:60] = True
    images = [np.concatenate([im, ignore[..., None].astype(np.float32)], -1) for im in images]
    masks = [mark_ignored(m, ignore) for m in masks]
    ds = SegmentationDataset(images, masks, batch_size=3, patch_size=(40, 40), seed=5,
                             steps_per_epoch=3)
    seen = 0
    for index in range(3):
        x, y = ds[index]
        shown = x[..., 1] > 0.5
        assert np.array_equal(y[..., 0] == IGNORE_TARGET, shown)
        assert np.array_equal(x[..., 0][~shown] > 0.5, y[..., 0][~shown] > 0.5)
        seen += shown.sum()
    assert seen > 0


def test_targets_are_derived_from_the_labels_as_drawn():
    """Contour targets next to an ignored region are those of the whole annotation: the mark
    does not cut an object."""
    labels = disk_labels()
    ignore = np.zeros(labels.shape, bool)
    ignore[15:25, 35:50] = True  # covers part of disc 2
    ds = SegmentationDataset([labels[..., None].astype(np.float32)], [mark_ignored(labels, ignore)],
                             batch_size=1, augmentor=None, target_type="contours",
                             num_classes=3)
    y = ds[0][1][0, ..., 0]
    expected = make_target(labels, "contours", 3).astype(np.float32)
    assert np.array_equal(y[~ignore], expected[~ignore])
    assert (y[ignore] == IGNORE_TARGET).all()
