import numpy as np
import pytest

from dl_suite.data.augment import ImageMaskAugmentor, from_config
from dl_suite.data.dataset import SegmentationDataset, dataset_from_config
from dl_suite.errors import DataError


def test_shapes_and_len(pairs):
    images, masks = pairs
    ds = SegmentationDataset(images, masks, batch_size=2, patch_size=(32, 32))
    assert len(ds) == 2
    x, y = ds[0]
    assert x.shape == (2, 32, 32, 1) and x.dtype == np.float32
    assert y.shape == (2, 32, 32, 1) and y.dtype == np.float32
    assert set(np.unique(y)) <= {0.0, 1.0}
    ds = SegmentationDataset(images, masks, batch_size=2, steps_per_epoch=7)
    assert len(ds) == 7 and ds[6][0].shape == (2, 64, 64, 1)


def test_default_augmentation_keeps_image_and_mask_in_lock_step(pairs):
    # the images are mask + small noise, so after augmentation they must still agree
    images, masks = pairs
    ds = SegmentationDataset(images, masks, batch_size=3, patch_size=(40, 40), seed=3,
                             steps_per_epoch=2)
    for index in range(2):
        x, y = ds[index]
        assert np.array_equal(x[..., 0] > 0.5, y[..., 0] > 0.5)


def test_weight_map_channel_and_onehot(pairs):
    images, masks = pairs
    ds = SegmentationDataset(images, masks, batch_size=2, weight_map="unet")
    x, y = ds[0]
    assert y.shape == (2, 64, 64, 2) and y[..., 1].min() > 0
    ds = SegmentationDataset(images, masks, batch_size=1, target_type="onehot", num_classes=2,
                             augmentor=None)
    assert ds[0][1].shape == (1, 64, 64, 2)
    ds = SegmentationDataset(images, masks, batch_size=1, target_type="datagen_contours")
    assert set(np.unique(ds[0][1])) <= {0.0, 1.0, 2.0}


def test_reproducible_and_epoch_dependent(pairs):
    images, masks = pairs
    make = lambda: SegmentationDataset(images, masks, batch_size=2, patch_size=(32, 32), seed=5)
    a, b = make(), make()
    assert all(np.array_equal(u, v) for u, v in zip(a[1], b[1]))
    a.on_epoch_end()
    assert not np.array_equal(a[1][0], b[1][0])
    # validation: no shuffle -> identical every epoch
    val = SegmentationDataset(images, masks, batch_size=2, patch_size=(32, 32), shuffle=False,
                              augmentor=None)
    first = val[0][0]
    val.on_epoch_end()
    assert np.array_equal(first, val[0][0])


def test_foreground_biased_sampling(pairs):
    images, masks = pairs
    fg = lambda pdf: np.mean([
        SegmentationDataset(images, masks, batch_size=3, patch_size=(8, 8), augmentor=None,
                            sampling_pdf=pdf, seed=s)[0][1][:, 4, 4, 0].mean()
        for s in range(20)
    ])
    assert fg(1000.0) > 0.95 > fg(0.0)


def test_errors_tell_what_to_fix(pairs):
    images, masks = pairs
    with pytest.raises(DataError, match="mask"):
        SegmentationDataset(images, masks[:2], batch_size=1)
    with pytest.raises(DataError, match="patch_size"):
        SegmentationDataset([images[0], np.zeros((32, 32, 1), np.float32)],
                            [masks[0], np.zeros((32, 32), np.uint8)], batch_size=1)
    with pytest.raises(DataError, match="num_classes"):
        SegmentationDataset(images, [m * 3 for m in masks], batch_size=1,
                            target_type="multiclass", num_classes=2)


def test_from_config(pairs):
    images, masks = pairs
    cfg = {"train": {"batch_size": 2, "steps_per_epoch": 3},
           "generator": {"patch_size": [32, 32], "seed": 1, "weight_map": "border"},
           "augmentor": {"vflip": True, "deformation": True},
           "deformation": {"alpha": 30, "sigmoids": [4.0]}}
    ds = dataset_from_config(cfg, images, masks)
    assert isinstance(ds.augmentor, ImageMaskAugmentor) and len(ds) == 3
    assert ds[0][1].shape == (2, 32, 32, 2)
    assert dataset_from_config(cfg, images, masks, training=False).augmentor is None
    assert from_config({"generator": {"augmentation": False}}) is None
