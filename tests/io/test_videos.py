"""Video files through the image contract (T, Y, X, C), the frame-to-video CSV."""

import numpy as np
import pytest
import tifffile

from dl_suite.errors import DataError
from dl_suite.io import read_image_data
from dl_suite.io.videos import read_videos_csv


def read_video(path):
    return read_image_data(path).array


def test_read_hyperstack_and_plain_stack(tmp_path):
    video = np.random.default_rng(0).integers(0, 255, (3, 2, 8, 9), dtype=np.uint8)  # T C Y X
    tifffile.imwrite(tmp_path / "h.tif", video, imagej=True, metadata={"axes": "TCYX"})
    np.testing.assert_array_equal(read_video(tmp_path / "h.tif"), np.moveaxis(video, 1, -1))
    pages = np.zeros((5, 8, 9), np.uint16)  # plain multi-page (5 pages): pages are frames
    tifffile.imwrite(tmp_path / "s.tif", pages)
    assert read_video(tmp_path / "s.tif").shape == (5, 8, 9, 1)


def test_videos_csv(tmp_path):
    (tmp_path / "v.csv").write_text("Video; Frame\nclip_a;raw_001.tif\nclip_a; raw_002.tif\nclip_b;raw_003.tif\n")
    assert read_videos_csv(tmp_path / "v.csv") == [
        ("clip_a", "raw_001.tif"), ("clip_a", "raw_002.tif"), ("clip_b", "raw_003.tif")]
    (tmp_path / "bad.csv").write_text("Video; Frame\nclip_a\n")
    with pytest.raises(DataError, match="row 2"):
        read_videos_csv(tmp_path / "bad.csv")
