import numpy as np
import pytest
import tifffile

from dl_suite.io.large_tiff import create_output_tiff, open_image_lazy


def test_uncompressed_tiff_is_memory_mapped(tmp_path):
    image = np.random.default_rng(0).integers(0, 255, (64, 80), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "a.tif", image)
    lazy = open_image_lazy(tmp_path / "a.tif")
    assert isinstance(lazy, np.memmap) and np.array_equal(lazy, image)


def test_compressed_tiff_and_png_are_read(tmp_path):
    image = np.arange(64 * 64, dtype=np.uint16).reshape(64, 64)
    tifffile.imwrite(tmp_path / "c.tif", image, compression="zlib")
    lazy = open_image_lazy(tmp_path / "c.tif")
    assert not isinstance(lazy, np.memmap) and np.array_equal(lazy, image)


def test_output_tiff_is_committed_atomically_as_imagej(tmp_path):
    target = tmp_path / "out" / "prob.tif"
    with create_output_tiff(target, (2, 40, 50, 1), np.float32, "TYXC", pixel_size=0.5,
                            frame_interval=2.0) as out:
        assert not target.exists()  # only the hidden temp file exists while writing
        out.array[1, :10] = 1.0
    assert target.exists() and not list(target.parent.glob(".*part"))
    with tifffile.TiffFile(target) as tif:
        assert tif.is_imagej and tif.series[0].axes == "TYX"
        assert tif.imagej_metadata["frames"] == 2 and tif.imagej_metadata["finterval"] == 2.0
        data = tif.asarray()
    assert data[1, :10].min() == 1.0 and data[0].max() == 0.0


def test_output_tiff_is_discarded_on_error(tmp_path):
    target = tmp_path / "prob.tif"
    with pytest.raises(RuntimeError):
        with create_output_tiff(target, (16, 16), np.float32, "YX") as out:
            out.array[:] = 1
            raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []


def test_output_tiff_rejects_non_imagej_dtype(tmp_path):
    with pytest.raises(ValueError, match="uint8, uint16 or float32"):
        create_output_tiff(tmp_path / "x.tif", (4, 4), np.float64, "YX")
