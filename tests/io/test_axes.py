"""The image contract: every file kind is read as (T, Y, X, C) with the documented axes rules."""

import cv2
import numpy as np
import pytest
import tifffile

from dl_suite.errors import DataError
from dl_suite.io import open_image_data, read_image_data, read_mask_data, write_image
from dl_suite.io.axes import default_axes, resolve_axes, to_tyxc, validate_axes

RNG = np.random.default_rng(0)


def rand(*shape, dtype=np.uint8):
    return RNG.integers(0, 200, size=shape).astype(dtype)


def test_grey_tiff_is_one_grey_frame(tmp_path):
    grey = rand(12, 10)
    tifffile.imwrite(tmp_path / "g.tif", grey)
    data = read_image_data(tmp_path / "g.tif")
    assert data.array.shape == (1, 12, 10, 1) and data.axes == "YX"
    np.testing.assert_array_equal(data.array[0, ..., 0], grey)


@pytest.mark.parametrize("photometric", ["rgb", "minisblack"])
def test_rgb_tiff_is_one_colour_frame(tmp_path, photometric):
    # A minisblack (H, W, 3) TIFF is, to tifffile, H pages of W x 3: the rule makes it RGB.
    rgb = rand(12, 10, 3)
    tifffile.imwrite(tmp_path / "c.tif", rgb, photometric=photometric)
    data = read_image_data(tmp_path / "c.tif")
    assert data.array.shape == (1, 12, 10, 3)
    np.testing.assert_array_equal(data.array[0], rgb)


def test_rgb_and_rgba_png_keep_rgb_order(tmp_path):
    rgb = np.zeros((8, 9, 3), np.uint8)
    rgb[..., 0] = 200  # red
    write_image(tmp_path / "c.png", rgb)
    data = read_image_data(tmp_path / "c.png")
    assert data.array.shape == (1, 8, 9, 3) and data.axes == "YXC"
    assert data.array[0, 0, 0].tolist() == [200, 0, 0]
    rgba = np.dstack([rgb, np.full((8, 9), 7, np.uint8)])
    cv2.imwrite(str(tmp_path / "a.png"), cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA))
    data = read_image_data(tmp_path / "a.png")
    assert data.array.shape == (1, 8, 9, 4) and data.array[0, 0, 0].tolist() == [200, 0, 0, 7]


def test_jpeg_grey_and_colour(tmp_path):
    cv2.imwrite(str(tmp_path / "g.jpg"), np.full((8, 8), 100, np.uint8))
    cv2.imwrite(str(tmp_path / "c.jpg"), np.full((8, 8, 3), 100, np.uint8))
    assert read_image_data(tmp_path / "g.jpg").array.shape == (1, 8, 8, 1)
    assert read_image_data(tmp_path / "c.jpg").array.shape == (1, 8, 8, 3)


def test_page_stack_is_frames(tmp_path):
    stack = rand(5, 12, 10)
    tifffile.imwrite(tmp_path / "s.tif", stack, photometric="minisblack")
    for reader in (read_image_data, open_image_data):
        data = reader(tmp_path / "s.tif")
        assert data.array.shape == (5, 12, 10, 1) and data.frame_letter == "T"
        np.testing.assert_array_equal(data.array[..., 0], stack)
    # tifffile's default writes (3, Y, X) as planar RGB: still 3 frames (write_image says so)
    with pytest.warns(DeprecationWarning):
        tifffile.imwrite(tmp_path / "p.tif", stack[:3])
    write_image(tmp_path / "w.tif", stack[:3])
    for name in ("p.tif", "w.tif"):
        np.testing.assert_array_equal(read_image_data(tmp_path / name).array[..., 0], stack[:3])


def test_imagej_hyperstack_axes_and_calibration(tmp_path):
    data5 = rand(2, 3, 4, 6, 7)  # T, Z, C, Y, X
    tifffile.imwrite(tmp_path / "h.tif", data5, imagej=True, resolution=(2.0, 2.0),
                     metadata={"axes": "TZCYX", "unit": "um", "finterval": 1.5, "spacing": 0.7})
    eager = read_image_data(tmp_path / "h.tif")
    lazy = open_image_data(tmp_path / "h.tif")
    assert eager.axes == "TZCYX" and eager.array.shape == (6, 6, 7, 4)
    assert isinstance(lazy.array, np.memmap) and lazy.array.shape == (6, 6, 7, 4)
    for t, z, c in [(0, 0, 0), (1, 2, 3), (1, 0, 2)]:
        np.testing.assert_array_equal(eager.array[t * 3 + z, ..., c], data5[t, z, c])
    np.testing.assert_array_equal(eager.array, lazy.array)
    cal = eager.calibration
    assert cal.pixel_size == pytest.approx(0.5) and cal.unit == "um"
    assert cal.frame_interval == pytest.approx(1.5) and cal.z_spacing == pytest.approx(0.7)
    assert cal.axes == "TZCYX"


def test_imagej_z_stack_keeps_z_letter(tmp_path):
    tifffile.imwrite(tmp_path / "z.tif", rand(4, 6, 7), imagej=True, metadata={"axes": "ZYX"})
    data = read_image_data(tmp_path / "z.tif")
    assert data.array.shape == (4, 6, 7, 1) and data.frame_letter == "Z"


def test_ome_tiff_axes_and_pixel_size(tmp_path):
    data4 = rand(3, 2, 6, 7, dtype=np.uint16)  # T, C, Y, X
    tifffile.imwrite(tmp_path / "o.ome.tif", data4, ome=True,
                     metadata={"axes": "TCYX", "PhysicalSizeX": 0.25, "PhysicalSizeY": 0.25,
                               "TimeIncrement": 4.0})
    data = read_image_data(tmp_path / "o.ome.tif")
    assert data.axes == "TCYX" and data.array.shape == (3, 6, 7, 2)
    np.testing.assert_array_equal(data.array[2, ..., 1], data4[2, 1])
    assert data.calibration.pixel_size == pytest.approx(0.25)
    assert data.calibration.frame_interval == pytest.approx(4.0)


def test_override_axes(tmp_path):
    rgb_like = rand(12, 10, 3)
    tifffile.imwrite(tmp_path / "x.tif", rgb_like, photometric="minisblack")
    as_frames = read_image_data(tmp_path / "x.tif", axes="tyx")
    assert as_frames.array.shape == (12, 10, 3, 1)
    stack = rand(3, 12, 10)
    tifffile.imwrite(tmp_path / "c.tif", stack, photometric="minisblack")
    as_channels = read_image_data(tmp_path / "c.tif", axes="CYX")
    np.testing.assert_array_equal(as_channels.array[0], np.moveaxis(stack, 0, -1))
    with pytest.raises(DataError, match="names 2"):
        read_image_data(tmp_path / "c.tif", axes="YX")
    with pytest.raises(DataError, match="including Y and X"):
        validate_axes("TQX")


def test_rules_without_metadata_and_ambiguity():
    assert default_axes((5, 6)) == "YX"
    assert default_axes((5, 6, 4)) == "YXC"
    assert default_axes((3, 5, 6)) == "TYX"
    assert default_axes((2, 5, 6, 3)) == "TYXC"
    with pytest.raises(DataError, match=r"\[dataset\] section"):
        default_axes((2, 3, 5, 6))
    # tifffile's unknown page axes ('Q') before colour pages: the pages are frames
    assert resolve_axes((2, 5, 6, 3), "QYXS") == "TYXS"
    assert to_tyxc(np.zeros((2, 3, 5, 6)), "TSYX").shape == (2, 5, 6, 3)
    # planar samples are tifffile's unasked guess for (3, Y, X): pages, i.e. frames
    assert resolve_axes((3, 5, 6), "SYX") == "TYX"
    with pytest.raises(DataError, match="does not say"):
        resolve_axes((2, 3, 5, 6), "QSYX")


def test_masks_follow_the_same_rules(tmp_path):
    labels = np.zeros((3, 8, 9), np.uint16)
    labels[1, 2:4, 2:4] = 5
    labels[2, 5:7, 1:3] = 9
    tifffile.imwrite(tmp_path / "m.tif", labels, photometric="minisblack")
    masks = read_mask_data(tmp_path / "m.tif")
    assert masks.shape == (3, 8, 9)
    np.testing.assert_array_equal(masks, labels)
    colour = np.zeros((8, 9, 3), np.uint8)
    colour[1:3, 1:3, 1] = 255
    write_image(tmp_path / "c.png", colour)
    binary = read_mask_data(tmp_path / "c.png")
    assert binary.shape == (1, 8, 9) and binary.sum() == 4 and binary.max() == 1


def test_lazy_compressed_stack_reads_frame_by_frame(tmp_path):
    from dl_suite.io.tiff_frames import TiffFrames

    stack = rand(4, 9, 11, 3)
    tifffile.imwrite(tmp_path / "z.tif", stack, photometric="rgb", compression="zlib")
    lazy = open_image_data(tmp_path / "z.tif")
    assert isinstance(lazy.array, TiffFrames) and lazy.array.shape == (4, 9, 11, 3)
    np.testing.assert_array_equal(lazy.array[2], stack[2])
    np.testing.assert_array_equal(lazy.array[1:3, 2:5, :, 0], stack[1:3, 2:5, :, 0])
    np.testing.assert_array_equal(np.asarray(lazy.array), read_image_data(tmp_path / "z.tif").array)
    lazy.array.close()


def test_mask_override_applies_only_when_it_fits(tmp_path):
    labels = np.zeros((8, 9, 3), np.uint16)
    labels[1, 1, 2] = 4
    labels[2, 2, 0] = 6
    tifffile.imwrite(tmp_path / "m.tif", labels, photometric="minisblack")
    assert read_mask_data(tmp_path / "m.tif").shape == (1, 8, 9)  # rule: one colour mask
    np.testing.assert_array_equal(read_mask_data(tmp_path / "m.tif", axes="TYX"), labels)
    tifffile.imwrite(tmp_path / "g.tif", labels[..., 0])
    assert read_mask_data(tmp_path / "g.tif", axes="TCYX").shape == (1, 8, 9)
