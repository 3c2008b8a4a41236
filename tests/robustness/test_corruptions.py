"""Corruptions: requested SNR reached within 5 %, seeded, each family changes the image."""

import itertools

import numpy as np
import pytest

from dl_suite.errors import UserError
from dl_suite.robustness import CORRUPTIONS, SNR_LEVELS, corrupt, measured_snr
from dl_suite.robustness.corruptions import motion_kernel
from dl_suite.robustness.snr import added_noise_sigma, foreground_mask

FAMILIES = ("bit_depth", "contrast", "defocus_blur", "gamma", "gaussian_noise", "motion_blur",
            "photobleaching", "poisson_gaussian", "vignetting")


def _cells(size=64):
    """Two bright discs (value 150) on a dark offset (20), uint8, with their mask."""
    yy, xx = np.mgrid[0:size, 0:size]
    mask = ((yy - 20) ** 2 + (xx - 20) ** 2 < 100) | ((yy - 44) ** 2 + (xx - 40) ** 2 < 144)
    return np.where(mask, 150, 20).astype(np.uint8), mask.astype(np.uint8)


def test_registry_keys_are_the_schema_enum_and_five_severities_each():
    from dl_suite.config.schema import section_properties

    enum = section_properties()["robustness"]["families"]["items"]["enum"]
    assert sorted(enum) == CORRUPTIONS.names() == sorted(FAMILIES)
    assert all(len(CORRUPTIONS.get(f).levels) == 5 for f in FAMILIES)


@pytest.mark.parametrize("family", ["gaussian_noise", "poisson_gaussian"])
@pytest.mark.parametrize("snr", SNR_LEVELS + (8.0,))
def test_noise_reaches_requested_snr_within_5_percent(family, snr):
    image, mask = _cells()
    noisy, params = corrupt(image, family, level=snr, mask=mask, seed=1)
    fg = foreground_mask(image.astype(float)[None, ..., None], mask)
    achieved = measured_snr(image[None, ..., None], noisy[None, ..., None], fg)
    assert abs(achieved - snr) / snr < 0.05
    # S = 150 - 20 = 130 above background, so sigma = 130 / snr
    assert params["sigma"] == pytest.approx(130.0 / snr)
    # the noise is not only on the foreground
    assert np.std(noisy[mask == 0] - image[mask == 0]) > 0.5 * 130.0 / snr


def test_poisson_gaussian_noise_grows_with_signal():
    image = np.full((128, 128), 20, np.uint8)
    image[32:, :64], image[32:, 64:] = 150, 250  # two objects 130 and 230 above background
    noisy, params = corrupt(image, "poisson_gaussian", level=3, mask=image > 20, seed=2)
    residual = noisy - image
    measured = residual[image == 250].var() / residual[image == 150].var()
    expected = (params["gain"] * 230 + params["read_sigma"] ** 2) / (params["gain"] * 130 + params["read_sigma"] ** 2)
    assert expected > 1.25 and measured == pytest.approx(expected, rel=0.06)


def test_input_snr_adds_only_missing_noise_and_rejects_higher_snr():
    assert added_noise_sigma(130.0, 4.0, input_snr=8.0) == pytest.approx(130.0 * np.sqrt(1 / 16 - 1 / 64))
    with pytest.raises(UserError, match="already have SNR 8"):
        added_noise_sigma(130.0, 8.0, input_snr=8.0)


def test_unreachable_snr_is_a_clear_error():
    image, _ = _cells()
    with pytest.raises(UserError, match="no foreground"):
        corrupt(image, "gaussian_noise", 2, mask=np.zeros_like(image), seed=0)
    with pytest.raises(UserError, match="not brighter"):
        corrupt(255 - image, "gaussian_noise", 2, mask=_cells()[1], seed=0)


@pytest.mark.parametrize("family", FAMILIES)
def test_every_family_is_seeded_and_grows_with_severity(family):
    image, mask = _cells()
    image = (image + np.linspace(0, 60, 64)[None]).astype(np.uint8)  # a ramp: grey levels to quantise
    first, _ = corrupt(image, family, 2, mask=mask, seed=5)
    again, _ = corrupt(image, family, 2, mask=mask, seed=5)
    np.testing.assert_array_equal(first, again)
    changes = [np.abs(corrupt(image, family, s, mask=mask, seed=5)[0] - image).mean() for s in (1, 3, 5)]
    assert changes[0] > 0 and changes[0] < changes[1] < changes[2]


def test_hand_checked_levels():
    image, mask = _cells()
    out, _ = corrupt(image, "contrast", level=0.5, mask=mask)
    mean = image.mean()
    np.testing.assert_allclose(out, mean + 0.5 * (image - mean), rtol=1e-6)
    out, _ = corrupt(image, "bit_depth", level=1, mask=mask)  # 1 bit over 20..150: two values
    assert set(np.unique(out)) == {20.0, 150.0}
    out, _ = corrupt(image, "gamma", level=2.0)  # min and max are fixed points
    assert out.min() == 20 and out.max() == 150
    kernel = motion_kernel(9, 0.0)
    # a horizontal line: mass on the middle row (anti-aliasing spills onto its neighbours), 9 px long
    assert kernel.sum() == pytest.approx(1.0) and kernel[4].sum() > 0.6
    assert np.count_nonzero(kernel.sum(axis=1)) <= 3 and np.count_nonzero(kernel.sum(axis=0)) >= 8


def test_photobleaching_decays_over_a_time_lapse():
    image, _ = _cells()
    stack = np.repeat(image[None], 5, axis=0)
    out, _params = corrupt(stack, "photobleaching", level=0.75, time_axis=True)
    offset = np.percentile(image, 1)
    signal = [(frame[image == 150] - offset).mean() for frame in out]
    assert signal[0] == pytest.approx(130.0) and signal[-1] == pytest.approx(0.25 * 130.0, rel=1e-4)
    assert all(a > b for a, b in itertools.pairwise(signal))


def test_corrupt_command_writes_copies_and_parameters(tmp_path):
    from dl_suite.cli.main import main
    from dl_suite.io import read_image, read_json, write_image

    image, mask = _cells()
    write_image(tmp_path / "in" / "images" / "a.png", image)
    write_image(tmp_path / "in" / "masks" / "a.tif", mask)
    out = tmp_path / "out"
    args = ["corrupt", "--input", str(tmp_path / "in"), "--output", str(out),
            "--set", "robustness.families=[\"gaussian_noise\",\"defocus_blur\"]",
            "--set", "robustness.severities=[2]", "--set", "robustness.output_dtype=\"float32\""]
    assert main(args) == 0
    rows = read_json(out / "corruptions.json")
    assert [(r["family"], r["level"]) for r in rows] == [("gaussian_noise", 4.0), ("defocus_blur", 2)]
    noisy = read_image(out / "gaussian_noise" / "s2" / "a.tif")
    fg = foreground_mask(image.astype(float)[None, ..., None], mask)
    assert measured_snr(image[None, ..., None], np.squeeze(noisy)[None, ..., None], fg) == pytest.approx(4.0, rel=0.05)
    assert (out / "corruptions.csv").read_text().startswith("image,output,family")
    assert main(args) == 2  # an earlier output is never overwritten
    write_image(tmp_path / "empty" / "images" / "a.png", image)
    write_image(tmp_path / "empty" / "masks" / "a.tif", np.zeros_like(mask))
    assert main(["corrupt", "--input", str(tmp_path / "empty"), "--output", str(tmp_path / "o2")]) == 2


def test_corrupt_command_from_a_config(tmp_path):
    from dl_suite.cli.main import main
    from dl_suite.io import read_json, write_image

    image, mask = _cells()
    write_image(tmp_path / "test" / "images" / "a.png", image)
    write_image(tmp_path / "test" / "masks" / "a.png", mask * 255)
    (tmp_path / "c.json").write_text(
        '{"test": {"datapath": "test"}, "robustness": {"split": "test", "families": ["bit_depth"], '
        '"severities": [5], "corrupt_output_dir": "copies"}}')
    assert main(["corrupt", str(tmp_path / "c.json")]) == 0
    rows = read_json(tmp_path / "copies" / "corruptions.json")
    assert [(r["family"], r["level"], r["output"]) for r in rows] == [("bit_depth", 2, "bit_depth/s5/a.png")]
    assert main(["corrupt", str(tmp_path / "c.json"), "--set", "robustness.split=\"eval\"",
                 "--output", str(tmp_path / "o")]) == 2  # no [eval] data: says what to set
