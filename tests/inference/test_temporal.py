"""Temporal post-processing: streamed Gaussian smoothing along T, minimum object duration."""

import numpy as np
import pytest
from scipy import ndimage as ndi

from dl_suite.inference.temporal import (
    TemporalOptions,
    iter_smoothed,
    object_durations,
    remove_short_lived,
    smoothing_radius,
)


def _disk_video(num_frames, present, size=24, radius=5, centre=(12, 12), value=0.9):
    """(T, size, size) float32 with a disk of `value` in the frames of `present`."""
    y, x = np.ogrid[:size, :size]
    disk = (y - centre[0]) ** 2 + (x - centre[1]) ** 2 <= radius**2
    video = np.zeros((num_frames, size, size), np.float32)
    for t in present:
        video[t][disk] = value
    return video, disk


def test_smoothing_fills_a_one_frame_gap_with_the_hand_computed_value():
    video, disk = _disk_video(10, [t for t in range(10) if t != 5])
    smooth = np.stack([f for _, f in iter_smoothed(video, 1.0)])
    # sigma 1, radius 4: weights exp(-k^2 / 2) / sum over k = -4..4; the gap lacks only k = 0.
    weights = np.exp(-0.5 * np.arange(-4, 5) ** 2)
    weights /= weights.sum()
    expected = 0.9 * (1.0 - weights[4])  # ~0.541
    assert smooth[5][disk] == pytest.approx(np.full(disk.sum(), expected), abs=1e-6)
    assert (smooth[5][disk] > 0.5).all() and (video[5][disk] == 0).all()
    assert np.abs(smooth[5][~disk]).max() == 0.0


@pytest.mark.parametrize("chunk", [1, 3, 16])
def test_streamed_smoothing_equals_filtering_the_whole_video(chunk):
    video = np.random.default_rng(0).random((23, 6, 5)).astype(np.float32)
    whole = ndi.gaussian_filter1d(video, 1.5, axis=0, mode="nearest", truncate=4.0)
    pairs = list(iter_smoothed(video, 1.5, chunk=chunk))
    assert [t for t, _ in pairs] == list(range(23))
    np.testing.assert_allclose(np.stack([f for _, f in pairs]), whole, atol=1e-6)
    assert smoothing_radius(1.5) == 6


def test_streamed_smoothing_reads_a_bounded_look_ahead():
    class Spy:
        def __init__(self, data):
            self.data, self.widest = data, 0

        def __len__(self):
            return len(self.data)

        def __getitem__(self, item):
            self.widest = max(self.widest, len(range(*item.indices(len(self.data)))))
            return self.data[item]

    spy = Spy(np.zeros((100, 4, 4), np.float32))
    assert len(list(iter_smoothed(spy, 1.0, chunk=8))) == 100
    assert spy.widest == 8 + 2 * 4  # chunk + look-behind + look-ahead, not 100 frames


def test_minimum_duration_removes_a_one_frame_blip_and_keeps_long_objects():
    lasting, disk = _disk_video(8, range(1, 5), value=1.0)  # frames 1-4
    blip, blip_disk = _disk_video(8, [6], centre=(5, 18), radius=2, value=1.0)
    masks = ((lasting + blip) > 0).astype(np.uint8) * 255
    labels = ndi.label(masks[6] > 0)[0]
    label_video = np.zeros(masks.shape, np.uint16)
    label_video[6] = labels
    removed = remove_short_lived(masks, 2, labels=label_video)
    assert removed == 1
    assert masks[6].sum() == 0 and label_video[6].sum() == 0
    assert (masks[1:5][:, disk] == 255).all()
    assert int((masks > 0).sum()) == 4 * int(disk.sum())
    # a duration of 5 frames also removes the 4-frame object
    assert remove_short_lived(masks, 5) == 1 and masks.sum() == 0


def test_objects_are_3d_components_linked_where_frames_overlap():
    rng = np.random.default_rng(1)
    masks = ndi.binary_opening(rng.random((9, 20, 20)) > 0.55, np.ones((1, 2, 2)))
    structure = np.zeros((3, 3, 3), bool)
    structure[1] = True  # 8-connected in a frame
    structure[0, 1, 1] = structure[2, 1, 1] = True  # same pixel in the previous / next frame
    reference, count = ndi.label(masks, structure=structure)
    spans = np.array([np.ptp(np.nonzero(reference == i)[0]) + 1 for i in range(1, count + 1)])
    assert 0 < np.count_nonzero(spans >= 3) < count  # some objects go, some stay
    offsets, objects, durations = object_durations(masks)
    assert len(durations) == count
    assert sorted(durations.tolist()) == sorted(spans.tolist())
    kept = masks.astype(np.uint8)
    remove_short_lived(kept, 3)
    expected = np.isin(reference, 1 + np.flatnonzero(spans >= 3))
    np.testing.assert_array_equal(kept > 0, expected)
    assert offsets[0] == 0


def test_options_from_config_and_bad_values():
    assert not TemporalOptions.from_config({}).active
    options = TemporalOptions.from_config({"time_sigma": 1, "min_duration": 3})
    assert options.active and options.time_sigma == 1.0 and options.min_duration == 3
    with pytest.raises(ValueError, match="time_sigma"):
        TemporalOptions.from_config({"time_sigma": -1})
