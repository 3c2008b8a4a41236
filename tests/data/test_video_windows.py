"""Time-window datasets: padding shared with inference, one augmentation draw per window,
frames without masks as context only, all-frame targets."""

import numpy as np
import pytest

from dl_suite.data.augment import AUGMENTATIONS
from dl_suite.data.augment.augmentor import ImageMaskAugmentor
from dl_suite.data.windows import VideoSegmentationDataset, time_window, window_indices
from dl_suite.errors import DataError


def _indexed_video(num_frames, size=16):
    """Frame k is constant k: a window's values name the frames it holds."""
    values = np.arange(num_frames, dtype=np.float32)[:, None, None, None]
    return values * np.ones((1, size, size, 1), np.float32)


@pytest.mark.parametrize("padding", ["mirror", "repeat"])
def test_training_windows_are_the_inference_windows(padding):
    video = _indexed_video(5)
    masks = np.ones((5, 16, 16), np.uint8)
    ds = VideoSegmentationDataset([video], [masks], time_windows=3, padding=padding,
                                  batch_size=1, augmentor=None, shuffle=False)
    assert [t for _, t in ds.frames] == [0, 1, 2, 3, 4]
    for i in range(5):
        x, _ = ds[i]
        got = x[0, :, 0, 0, 0].astype(int).tolist()
        assert got == window_indices(i, 3, 5, padding).tolist()  # the function inference uses
        np.testing.assert_array_equal(x[0], time_window(video, i, 3, padding))
    expected = {"mirror": [[2, 1, 0], [1, 0, 1]], "repeat": [[0, 0, 0], [0, 0, 1]]}[padding]
    assert [window_indices(t, 3, 5, padding).tolist() for t in (0, 1)] == expected


def _pattern(size=24):
    """An asymmetric 'L' so every flip and rotation gives a different picture."""
    p = np.zeros((size, size), np.uint8)
    p[4:20, 6:10] = 1
    p[16:20, 6:18] = 1
    return p


def test_one_augmentation_draw_per_window_for_frames_and_masks():
    get = AUGMENTATIONS.get
    augmentor = ImageMaskAugmentor(
        [get("vflip")(p=0.5), get("hflip")(p=0.5), get("random_rotation")(rotation_range=40, p=1.0)],
        seed=3, interpolation="nearest",
    )
    pattern = _pattern()
    scale = np.array([1.0, 2.0, 3.0], np.float32)  # frame k = (k + 1) * pattern
    video = scale[:, None, None, None] * pattern[None, ..., None].astype(np.float32)
    masks = np.stack([pattern] * 3)
    ds = VideoSegmentationDataset([video], [masks], time_windows=3, padding="repeat",
                                  all_frames=True, batch_size=3, augmentor=augmentor, seed=7,
                                  steps_per_epoch=2)
    changed = 0
    for b in range(2):
        x, y = ds[b]
        assert x.shape == (3, 3, 24, 24, 1) and y.shape == (3, 3, 24, 24, 1)
        for s in range(3):
            frames = [x[s, j, ..., 0] / scale[k] for j, k in
                      enumerate(window_indices(ds.frames[ds.image_indices(b)[s]][1], 3, 3, "repeat"))]
            for j in range(1, 3):  # every frame moved exactly like the first one
                np.testing.assert_allclose(frames[j], frames[0], atol=1e-5)
                np.testing.assert_array_equal(y[s, j], y[s, 0])
            np.testing.assert_array_equal(frames[0] > 0.5, y[s, 0, ..., 0] > 0.5)  # mask follows
            changed += not np.array_equal(frames[0] > 0.5, pattern > 0)
    assert changed >= 3  # the augmentation really transformed the windows


def test_frames_without_masks_are_context_only():
    video = _indexed_video(6)
    masks = [None, None, np.ones((16, 16), np.uint8), None, np.zeros((16, 16), np.uint8), None]
    ds = VideoSegmentationDataset([video], [masks], time_windows=3, batch_size=1,
                                  augmentor=None, shuffle=False)
    assert ds.frames == [(0, 2), (0, 4)]  # only annotated frames are targets
    x, y = ds[0]
    assert x[0, :, 0, 0, 0].tolist() == [0, 1, 2] and y.max() == 1  # unannotated 0, 1 as context
    x, y = ds[1]
    assert x[0, :, 0, 0, 0].tolist() == [2, 3, 4] and y.max() == 0
    # every-frame targets need a mask in every frame of the window: none here
    with pytest.raises(DataError, match="every frame of a window"):
        VideoSegmentationDataset([video], [masks], time_windows=3, batch_size=1, all_frames=True)


def test_mask_count_must_match_frames():
    with pytest.raises(DataError, match="6 frames but 2 masks"):
        VideoSegmentationDataset([_indexed_video(6)], [[None, None]], time_windows=2, batch_size=1)
