"""The synthetic time-lapse: lineage consistent with masks, SNR as requested, determinism."""

import numpy as np
import pytest

from dl_suite.data.synthetic_timelapse import measure_snr, synthetic_timelapse


@pytest.fixture(scope="module")
def video():
    # 40 frames so that nuclei divide (seed 1 gives several divisions) and enter.
    return synthetic_timelapse(frames=40, size=64, cells=6, snr=4.0, seed=1)


def test_every_label_lives_exactly_in_frames_b_to_e(video):
    assert video.frames.shape == video.labels.shape == (40, 64, 64)
    assert video.frames.dtype == video.labels.dtype == np.uint16
    declared = {int(l) for l in video.tracks[:, 0]}
    assert len(declared) == len(video.tracks)  # ids unique
    for t in range(40):
        present = set(np.unique(video.labels[t]).tolist()) - {0}
        alive = {int(l) for l, b, e, _ in video.tracks if b <= t <= e}
        assert present == alive, t


def test_parents_end_before_children_and_divide_in_two(video):
    table = {int(l): (int(b), int(e), int(p)) for l, b, e, p in video.tracks}
    divisions = video.divisions()
    assert len(divisions) >= 2  # the fixture must exercise divisions
    for parent, kids in divisions.items():
        assert len(kids) == 2
        starts = {table[k][0] for k in kids}
        assert starts == {table[parent][1] + 1}  # daughters start the frame after the parent ends
    for label, (b, e, p) in table.items():
        assert 0 <= b <= e < 40
        if p:
            assert table[p][1] < b


def test_each_label_is_one_connected_region(video):
    from scipy import ndimage

    for t in (0, 20, 39):
        for label in set(np.unique(video.labels[t]).tolist()) - {0}:
            assert ndimage.label(video.labels[t] == label)[1] == 1


@pytest.mark.parametrize("snr", [1.5, 4.0, 12.0])
def test_measured_snr_is_the_requested_one(snr):
    data = synthetic_timelapse(frames=12, size=64, cells=5, snr=snr, seed=3)
    # Tolerance 5 %: the estimate of the noise std from ~20k background pixels and the
    # uint16 rounding (std 0.29 grey levels against a 1000-level signal) stay well inside it.
    assert measure_snr(data.frames, data.labels) == pytest.approx(snr, rel=0.05)
    assert data.noise_sigma == pytest.approx(1000.0 / snr)


def test_same_seed_same_video_other_seed_other_video():
    a = synthetic_timelapse(frames=8, size=32, cells=3, seed=5)
    b = synthetic_timelapse(frames=8, size=32, cells=3, seed=5)
    c = synthetic_timelapse(frames=8, size=32, cells=3, seed=6)
    np.testing.assert_array_equal(a.frames, b.frames)
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_array_equal(a.tracks, b.tracks)
    assert not np.array_equal(a.labels, c.labels)


def test_nuclei_move():
    data = synthetic_timelapse(frames=10, size=64, cells=4, seed=2, drift=(1.0, 0.0))
    first, last = (np.argwhere(data.labels[t] == 1).mean(axis=0) for t in (0, 9))
    assert last[0] - first[0] > 4  # 9 frames of 1 px/frame drift, minus random steps


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="snr"):
        synthetic_timelapse(frames=3, snr=0)
    with pytest.raises(ValueError, match="size"):
        synthetic_timelapse(frames=3, size=4)
