import numpy as np
import pytest

from dl_suite.data.augment import ImageMaskAugmentor, from_config
from dl_suite.data.dataset import SegmentationDataset, dataset_from_config
from dl_suite.data.augment.base import AUGMENTATIONS
from dl_suite.data.targets import make_target
from dl_suite.data.weights import unet_weight_map
from dl_suite.errors import ConfigError, DataError
from scipy import ndimage
from tests.data.conftest import disk_labels


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
    # "onehot" yields class indices (the losses expand them), so a weight map can ride along
    ds = SegmentationDataset(images, masks, batch_size=1, target_type="onehot", num_classes=2,
                             augmentor=None, weight_map="border")
    y = ds[0][1]
    assert y.shape == (1, 64, 64, 2) and set(np.unique(y[..., 0])) == {0.0, 1.0}
    assert y[..., 1].min() >= 1.0 and y[..., 1].max() > 1.0
    ds = SegmentationDataset(images, masks, batch_size=1, target_type="datagen_contours",
                             num_classes=3)
    assert set(np.unique(ds[0][1])) == {0.0, 1.0, 2.0}
    with pytest.raises(ConfigError, match="num_classes = 3"):
        SegmentationDataset(images, masks, batch_size=1, target_type="contours", num_classes=1)


def _closed(contour_target, labels):
    """Every instance away from the patch edge: interior never touches background (4-conn.)
    and its contour pixels form one 8-connected ring."""
    for k in np.unique(labels):
        if k == 0 or k in labels[[0, -1]] or k in labels[:, [0, -1]]:
            continue
        interior = (contour_target == 1) & (labels == k)
        grown = ndimage.binary_dilation(interior)  # 4-neighbourhood
        if np.any(grown & (labels != k)):
            return False
        ring = (contour_target == 2) & (labels == k)
        if ndimage.label(ring, structure=np.ones((3, 3)))[1] != 1:
            return False
    return True


def test_contours_and_weights_derived_from_augmented_labels():
    """Rotation + elastic deformation: the contour target equals the contour of the augmented
    labels exactly (the old way, resampling a precomputed contour map, breaks the rings)."""
    labels = disk_labels(shape=(96, 96), centres=((30, 30), (30, 50), (64, 44)), radius=10)
    image = (labels > 0).astype(np.float32)[..., None]
    aug = lambda: ImageMaskAugmentor([
        AUGMENTATIONS.get("random_rotation")(rotation_range=(20, 40), p=1.0),
        AUGMENTATIONS.get("deformation")(alpha=60.0, sigmoids=[6.0], p=1.0)], seed=0)
    common = dict(batch_size=1, patch_size=(80, 80), seed=4, steps_per_epoch=3)
    contours = SegmentationDataset([image], [labels], augmentor=aug(), target_type="contours",
                                   num_classes=3, weight_map="unet", **common)
    raw = SegmentationDataset([image], [labels], augmentor=aug(), target_type="multiclass",
                              num_classes=4, **common)
    old_way = make_target(labels, "contours", 3)
    broken = 0
    for index in range(3):
        y, augmented = contours[index][1][0], raw[index][1][0, ..., 0].astype(np.int32)
        assert len(np.unique(augmented)) == 4  # all three cells are in the patch
        expected = make_target(augmented, "contours", 3)
        assert np.array_equal(y[..., 0], expected)
        assert np.allclose(y[..., 1], unet_weight_map(augmented), atol=1e-6)
        assert _closed(y[..., 0], augmented)
        # resampling the precomputed contour map with the same draw gives broken rings
        rng = np.random.default_rng((4, 0, index))
        top, left = contours.sampler.sample(rng, 0)
        centre = (left + 39.5, top + 39.5)
        _, resampled, _ = aug().augment(image, old_way, None, rng=rng, output_shape=(80, 80),
                                        center=centre)
        broken += not _closed(resampled, augmented)
    assert broken == 3  # the old way's rings were open in every patch


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
