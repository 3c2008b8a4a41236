import numpy as np
import pytest
import tifffile

from dl_suite.errors import DataError
from dl_suite.io.imagej import imagej_layout, read_calibration, write_imagej_tiff


def _check_hyperstack(path, axes, shape):
    """INTEROP.md 2.3 checks 1-2 and 7.3."""
    with tifffile.TiffFile(path) as tif:
        assert tif.is_imagej
        assert tif.series[0].axes == axes
        meta = tif.imagej_metadata
        assert tif.pages[0].description.startswith("ImageJ=")
        counts = {"T": "frames", "Z": "slices", "C": "channels"}
        pages = 1
        for letter, key in counts.items():
            if letter in axes:
                n = shape[axes.index(letter)]
                assert meta[key] == n
                pages *= n
        assert meta.get("images", 1) == pages == len(tif.pages)
        return tif.asarray(), meta, tif.pages[0]


def test_time_lapse_labels_are_uint16_tyx_with_calibration(tmp_path):
    labels = np.zeros((5, 32, 40), np.int64)
    labels[:, 4:10, 5:12] = 3
    labels[2, 20:30, 20:30] = 7
    path = write_imagej_tiff(tmp_path / "lab.tif", labels, "TYX", labels=True, pixel_size=0.65,
                             frame_interval=5.0, time_unit="min")
    data, meta, page = _check_hyperstack(path, "TYX", labels.shape)
    assert page.dtype == np.uint16 and np.array_equal(data, labels)
    assert meta["hyperstack"] is True and meta["unit"] == "um" and meta["finterval"] == 5.0
    assert meta["tunit"] == "min" and meta["max"] == 7
    num, den = page.tags["XResolution"].value
    assert den / num == pytest.approx(0.65, rel=1e-6)
    cal = read_calibration(path)
    assert cal.pixel_size == pytest.approx(0.65, rel=1e-6) and cal.unit == "um"
    assert cal.frame_interval == 5.0


def test_channels_last_probabilities_are_stored_as_cyx_and_round_trip(tmp_path):
    prob = np.random.default_rng(0).random((24, 30, 3)).astype(np.float32)
    path = write_imagej_tiff(tmp_path / "p.tif", prob, "YXC", pixel_size=(0.2, 0.3))
    data, meta, page = _check_hyperstack(path, "CYX", (3, 24, 30))
    assert page.dtype == np.float32
    np.testing.assert_array_equal(np.moveaxis(data, 0, -1), prob)
    # write -> read -> write preserves array, axes and calibration (INTEROP 7 check 2)
    cal = read_calibration(path)
    again = write_imagej_tiff(tmp_path / "p2.tif", data, "CYX",
                              pixel_size=(cal.pixel_height, cal.pixel_size), unit=cal.unit)
    data2, _, _ = _check_hyperstack(again, "CYX", (3, 24, 30))
    assert np.array_equal(data, data2)
    assert read_calibration(again).pixel_size == pytest.approx(0.3, rel=1e-6)
    assert read_calibration(again).pixel_height == pytest.approx(0.2, rel=1e-6)


def test_masks_bools_become_uint8_and_bad_inputs_are_explained(tmp_path):
    path = write_imagej_tiff(tmp_path / "m.tif", np.eye(16, dtype=bool), "YX")
    data, _, page = _check_hyperstack(path, "YX", (16, 16))
    assert page.dtype == np.uint8 and set(np.unique(data)) == {0, 255}
    assert read_calibration(path).pixel_size is None
    with pytest.raises(ValueError, match="one letter per dimension"):
        write_imagej_tiff(tmp_path / "x.tif", np.zeros((2, 3, 4)), "YX")
    with pytest.raises(DataError, match="negative"):
        write_imagej_tiff(tmp_path / "x.tif", -np.ones((4, 4), int), "YX", labels=True)
    assert not list(tmp_path.glob(".*part"))


def test_imagej_layout_orders_axes():
    view, order = imagej_layout(np.zeros((7, 5, 6, 2)), "TYXC")
    assert order == "TCYX" and view.shape == (7, 2, 5, 6)
