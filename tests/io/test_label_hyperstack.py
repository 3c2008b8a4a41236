"""Label hyperstacks for Fiji/TrackMate (INTEROP.md 2.3) and label-video input checks."""

import logging

import numpy as np
import pytest
import tifffile

from dl_suite.errors import DataError
from dl_suite.io.imagej import Calibration
from dl_suite.io.label_hyperstack import (
    check_label_video,
    read_label_video,
    write_label_hyperstack,
    write_raw_labels_hyperstack,
)
from tests.tracking.fixtures import division_video

CAL = Calibration(pixel_size=0.65, unit="um", frame_interval=5.0, time_unit="min")


def _check_imagej(path, axes, frames, channels=1):
    with tifffile.TiffFile(path) as tif:
        meta = tif.imagej_metadata
        assert tif.is_imagej and tif.series[0].axes == axes  # check 1
        assert meta["frames"] == frames and meta.get("channels", 1) == channels  # check 2
        assert meta["images"] == frames * channels == len(tif.pages) and meta["hyperstack"] is True
        assert tif.pages[0].dtype == np.uint16  # check 3
        num, den = tif.pages[0].tags["XResolution"].value
        assert den / num == pytest.approx(0.65, rel=1e-6)  # check 4
        assert meta["unit"] == "um" and meta["finterval"] == 5.0 and meta["tunit"] == "min"
        assert not tif.pages[0].description.startswith('{"shape"')
        return tif.asarray()


def test_label_hyperstack_is_tyx_with_calibration(tmp_path):
    video = division_video()
    path = write_label_hyperstack(tmp_path / "labels.tif", video, CAL)
    data = _check_imagej(path, "TYX", frames=6)
    assert np.array_equal(data, video)
    for t in range(6):  # check 5: labels per frame as written
        assert set(np.unique(data[t])) - {0} == set(np.unique(video[t])) - {0}
    back, calibration = read_label_video(path)  # round trip
    assert np.array_equal(back, video) and calibration.pixel_size == pytest.approx(0.65)
    assert calibration.frame_interval == 5.0


def test_raw_plus_labels_is_two_channels(tmp_path):
    video = division_video()
    raw = np.linspace(0, 1, video.size, dtype=np.float32).reshape(video.shape)  # rescaled to uint16
    path = write_raw_labels_hyperstack(tmp_path / "raw_labels.tif", raw, video, CAL)
    data = _check_imagej(path, "TCYX", frames=6, channels=2)
    assert np.array_equal(data[:, 1], video)
    assert data[:, 0].min() == 0 and data[:, 0].max() == 65535


def test_non_integer_labels_are_refused(tmp_path):
    video = division_video().astype(np.float32)
    video[2, 5, 5] = 0.4
    with pytest.raises(DataError, match=r"non-integer values \(e.g. 0.4.* in frame 2\)"):
        check_label_video(video)
    assert check_label_video(division_video().astype(np.float32)).dtype == np.int32


def test_frames_of_different_sizes(tmp_path):
    tifffile.imwrite(tmp_path / "mask000.tif", np.ones((40, 40), np.uint16))
    tifffile.imwrite(tmp_path / "mask001.tif", np.ones((40, 38), np.uint16))
    with pytest.raises(DataError, match=r"different sizes \(mask000.tif \(40, 40\), mask001.tif \(40, 38\)\)"):
        read_label_video(tmp_path)


def test_folder_of_frames_is_a_video(tmp_path):
    video = division_video()
    for t, frame in enumerate(video):
        tifffile.imwrite(tmp_path / f"mask{t:03d}.tif", frame)
    back, calibration = read_label_video(tmp_path)
    assert np.array_equal(back, video) and calibration.pixel_size is None


def test_empty_frame_warns_and_all_empty_fails(caplog):
    video = division_video()
    video[4] = 0
    with caplog.at_level(logging.WARNING):
        check_label_video(video, "v")
    assert "no object in frame(s) 4" in caplog.text
    with pytest.raises(DataError, match="no objects in any frame"):
        check_label_video(np.zeros((3, 8, 8), np.uint16))


def test_negative_and_boolean_labels():
    with pytest.raises(DataError, match="negative"):
        check_label_video(-np.ones((2, 4, 4), np.int16))
    with pytest.raises(DataError, match="dtype bool"):
        check_label_video(np.ones((2, 4, 4), bool))


def test_frames_stored_as_slices_are_read_as_time(tmp_path, caplog):
    video = division_video()
    path = tmp_path / "zstack.tif"
    tifffile.imwrite(path, video, imagej=True, metadata={"axes": "ZYX"})
    with caplog.at_level(logging.WARNING):
        back, _ = read_label_video(path)
    assert np.array_equal(back, video) and "as 'Z'" in caplog.text


def test_missing_file():
    with pytest.raises(DataError, match="Label video not found"):
        read_label_video("/nonexistent/video.tif")


def test_huge_label_values_are_renumbered(caplog):
    video = division_video().astype(np.int64)
    video[video == 4] = 3_000_000_000 - 2**31  # still a valid int32, far above 2**24
    video[video == 1] = 2**31 - 1
    with caplog.at_level(logging.WARNING):
        out = check_label_video(video)
    assert "renumbered" in caplog.text
    for t in range(len(video)):  # same objects, values 1..n per frame
        assert set(np.unique(out[t])) - {0} == set(range(1, len(np.unique(video[t]))))
        assert np.array_equal(out[t] > 0, video[t] > 0)
