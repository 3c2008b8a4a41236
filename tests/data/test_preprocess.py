"""The one channel rule shared by train, evaluate and infer."""

import numpy as np
import pytest
import tifffile

from dl_suite.data.preprocess import ModelFrames, model_frames, to_model_channels
from dl_suite.errors import DataError
from dl_suite.io import open_image_data


def test_same_channels_is_unchanged():
    image = np.arange(24, dtype=np.uint16).reshape(2, 4, 3)
    assert to_model_channels(image, 3) is image


def test_rgb_and_rgba_to_grey_is_the_mean_of_rgb():
    rgba = np.array([[[30, 60, 120, 255]]], np.uint8)
    grey = to_model_channels(rgba, 1)
    assert grey.dtype == np.float32 and grey.shape == (1, 1, 1)
    assert grey[0, 0, 0] == pytest.approx(70.0)  # (30 + 60 + 120) / 3, alpha ignored
    assert to_model_channels(rgba[..., :3], 1)[0, 0, 0] == pytest.approx(70.0)


def test_rgba_to_rgb_drops_alpha_and_grey_repeats():
    rgba = np.array([[[1, 2, 3, 4]]], np.uint8)
    assert to_model_channels(rgba, 3).tolist() == [[[1, 2, 3]]]
    assert to_model_channels(np.array([[[5]]]), 3).tolist() == [[[5, 5, 5]]]


def test_unconvertible_channels_say_how_to_fix():
    with pytest.raises(DataError) as info:
        to_model_channels(np.zeros((4, 4, 2)), 1, path="two.tif")
    text = str(info.value)
    assert "'two.tif' has 2 channel(s)" in text and "expects 1" in text
    assert "image_channels = 2" in text and "[dataset] axes" in text
    with pytest.raises(DataError):
        to_model_channels(np.zeros((4, 4, 3)), 4)


def test_model_frames_converts_one_frame_at_a_time(tmp_path):
    stack = np.random.default_rng(1).integers(0, 255, (4, 6, 7, 3)).astype(np.uint8)
    tifffile.imwrite(tmp_path / "rgb.tif", stack, photometric="rgb")
    data = open_image_data(tmp_path / "rgb.tif")
    assert isinstance(data.array, np.memmap)
    frames = model_frames(data.array, 1, "rgb.tif")
    assert isinstance(frames, ModelFrames) and frames.shape == (4, 6, 7, 1) and len(frames) == 4
    np.testing.assert_allclose(frames[2][..., 0], stack[2].mean(axis=-1), rtol=1e-6)
    np.testing.assert_allclose(frames[1:3, 2:4, :, 0], stack[1:3, 2:4].mean(axis=-1), rtol=1e-6)
    assert frames.dtype == np.float32 and np.asarray(frames).shape == (4, 6, 7, 1)
    assert model_frames(data.array, 3) is data.array
    with pytest.raises(DataError, match="expects 2"):
        model_frames(data.array, 2)
