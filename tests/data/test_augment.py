import json
from pathlib import Path

import numpy as np
import pytest

from dl_suite.data.augment import AUGMENTATIONS, OP_NAMES, ImageMaskAugmentor, from_config
from dl_suite.registry import UnknownNameError
from tests.data.conftest import disk_labels

GEOMETRIC = {
    "vflip": {}, "hflip": {}, "rotation": {"angles": [30, 90]},
    "random_rotation": {"rotation_range": 40}, "shrink": {"shrinks": [0.7]},
    "zoom": {"zoom_range": [0.8, 1.3]}, "shear": {"shears": [0.2]}, "shift": {"shift_range": 0.2},
    "crop": {"crop_scale": 0.6}, "deformation": {"alpha": 60.0, "sigmoids": [4.0]},
    "distortion": {"distortions": [0.05], "gaussian_filter_rsigma": 10},
    "barrdistortion": {"radius": 0.5, "amount": 0.5}, "pincdistortion": {"radius": 0.5, "amount": -0.5},
}
PHOTOMETRIC = {
    "brightening": {"alpha": 1.5, "beta": 30}, "gamma": {"gamma_range": [0.5, 2.0]},
    "noise": {"noise_std": 0.2}, "poisson": {"poisson_peak": 10}, "blur": {"blur_sigma": 2.0},
    "sharpening": {"k": 1.0},
}


def single(name, seed=0, border_mode="reflect", **kwargs):
    kwargs = {**(GEOMETRIC | PHOTOMETRIC)[name], **kwargs}
    return ImageMaskAugmentor([AUGMENTATIONS.get(name)(p=1.0, **kwargs)], seed=seed,
                              border_mode=border_mode)


def test_every_op_is_tested_and_has_a_probability_key():
    assert set(OP_NAMES) == set(GEOMETRIC) | set(PHOTOMETRIC) == set(AUGMENTATIONS.names())
    schema = Path(__file__).parents[2] / "dl_suite/config/schema/augmentor.json"
    keys = json.loads(schema.read_text())["properties"]
    assert all(f"{name}_prob" in keys for name in OP_NAMES)


@pytest.mark.parametrize("name", sorted(GEOMETRIC))
def test_geometric_lock_step_and_label_values(name):
    labels = disk_labels()
    image = labels.astype(np.float32)  # image made from the same label map
    weights = (labels > 0).astype(np.float32) * 5 + 1
    aug = single(name, seed=1)
    for _ in range(3):
        out_image, out_mask, out_weights = aug(image, labels, weights)
        assert set(np.unique(out_mask)) <= set(np.unique(labels))
        agree = np.round(out_image) == out_mask
        assert agree.mean() > 0.9, f"{name}: image and mask deformed differently"
        assert np.array_equal(out_weights > 3, out_mask > 0) or \
            (np.not_equal(out_weights > 3, out_mask > 0).mean() < 0.05)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_rotation_by_multiples_of_90_equals_rot90(k):
    rng = np.random.default_rng(0)
    image = rng.random((32, 32, 2), dtype=np.float32)
    labels = rng.integers(0, 5, (32, 32)).astype(np.uint8)
    aug = single("rotation", angles=[90 * k])
    out_image, out_mask, _ = aug(image, labels)
    assert np.array_equal(out_image, np.rot90(image, k))
    assert np.array_equal(out_mask, np.rot90(labels, k))


def test_flips_are_the_right_flips():
    image = np.arange(12, dtype=np.float32).reshape(3, 4)
    assert np.array_equal(single("vflip")(image)[0], np.flipud(image))
    assert np.array_equal(single("hflip")(image)[0], np.fliplr(image))


def test_shrink_and_shift_parameters_are_honoured():
    labels = disk_labels((64, 64), centres=((32, 32),), radius=12)
    area = (labels > 0).sum()
    out = single("shrink", shrinks=[0.5], border_mode="constant")(labels.astype(np.float32), labels)[1]
    assert abs((out > 0).sum() / area - 0.25) < 0.05
    shifted = single("shift", shift_range=0.25, seed=3, border_mode="constant")(labels.astype(np.float32), labels)[1]
    rows, cols = np.nonzero(shifted == 1)
    assert abs(rows.mean() - 32) <= 16.5 and abs(cols.mean() - 32) <= 16.5
    assert (shifted > 0).sum() == pytest.approx(area, rel=0.02)


@pytest.mark.parametrize("name", sorted(PHOTOMETRIC))
def test_photometric_ops_change_image_not_mask(name):
    rng = np.random.default_rng(0)
    image = rng.random((32, 32, 1), dtype=np.float32)
    labels = disk_labels((32, 32), centres=((16, 16),), radius=6)
    weights = rng.random((32, 32)).astype(np.float32)
    out_image, out_mask, out_weights = single(name)(image, labels, weights)
    assert np.array_equal(out_mask, labels) and np.array_equal(out_weights, weights)
    assert out_image.shape == image.shape and out_image.dtype == np.float32
    assert not np.allclose(out_image, image)


def test_photometric_identity_parameters():
    image = np.random.default_rng(0).random((16, 16), dtype=np.float32)
    assert np.allclose(single("brightening", alpha=1.0, beta=0.0)(image)[0], image, atol=1e-6)
    assert np.allclose(single("gamma", gamma_range=[1.0, 1.0])(image)[0], image, atol=1e-6)
    assert np.allclose(single("sharpening", k=0.0)(image)[0], image)
    noisy = single("noise", noise_std=0.0)(image)[0]
    assert np.allclose(noisy, image)


def test_probability_zero_and_one():
    image = np.arange(16, dtype=np.float32).reshape(4, 4)
    never = ImageMaskAugmentor([AUGMENTATIONS.get("vflip")(p=0.0)])
    assert all(np.array_equal(never(image)[0], image) for _ in range(5))
    flips = [np.array_equal(ImageMaskAugmentor([AUGMENTATIONS.get("vflip")(p=0.5)], seed=s)(image)[0],
                            image) for s in range(40)]
    assert 5 < sum(flips) < 35


def test_seeded_reproducibility():
    cfg = {"augmentor": {"deformation": True, "noise": True, "random_rotation": True,
                         "deformation_prob": 1, "noise_prob": 1},
           "deformation": {"alpha": 50, "sigmoids": [4.0]}, "generator": {"seed": 7}}
    labels = disk_labels()
    image = labels.astype(np.float32)
    a, b = from_config(cfg), from_config(cfg)
    for _ in range(3):
        ra, rb = a(image, labels), b(image, labels)
        assert np.array_equal(ra[0], rb[0]) and np.array_equal(ra[1], rb[1])
    c = from_config({**cfg, "generator": {"seed": 8}})
    assert not np.array_equal(a(image, labels)[0], c(image, labels)[0])


def test_patch_around_centre_reads_real_context():
    image = np.arange(64 * 64, dtype=np.float32).reshape(64, 64)
    out = ImageMaskAugmentor([])(image, output_shape=(8, 8), center=(10 + 3.5, 20 + 3.5))[0]
    assert np.array_equal(out, image[20:28, 10:18])


def test_errors_name_the_option():
    with pytest.raises(UnknownNameError, match="Did you mean 'vflip'"):
        AUGMENTATIONS.get("vflp")
    with pytest.raises(ValueError, match="vflip_prob"):
        from_config({"augmentor": {"vflip": True, "vflip_prob": 1.5}})
    with pytest.raises(ValueError, match="barrdistortion"):
        from_config({"augmentor": {"barrdistortion": True}, "barrdistortion": {"amount": 2.0}})
    with pytest.raises(ValueError, match="border_mode"):
        ImageMaskAugmentor([], border_mode="mirror")


def test_from_config_legacy_sections():
    cfg = {"augmentor": {"vflip": True, "hflip": True, "rotation": True, "angles": [90, 180, 270],
                         "shrinks": [0.8], "shears": [0.1], "deformation": True,
                         "distortion": True, "barrdistortion": True, "pincdistortion": True,
                         "sharpening": True, "brightening": True},
           "deformation": {"alpha": 1300, "sigmoids": [8.0]},
           "barrdistortion": {"radius": 0.3, "amount": 0.3, "centers": [[0.3, 0.3], [0.7, 0.7]]}}
    aug = from_config(cfg)
    names = [t.name for t in aug.transforms]
    assert names == ["vflip", "hflip", "rotation", "shrink", "shear", "deformation", "distortion",
                     "barrdistortion", "pincdistortion", "brightening", "sharpening"]
    image = np.random.default_rng(0).random((48, 48, 3), dtype=np.float32)
    out_image, out_mask, _ = aug(image, (image[..., 0] > 0.5).astype(np.uint8))
    assert out_image.shape == image.shape and set(np.unique(out_mask)) <= {0, 1}
    assert aug.get_config()["transforms"][0]["name"] == "vflip"
