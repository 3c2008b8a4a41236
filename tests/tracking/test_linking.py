"""Linking the division and gap fixtures with both laptrack methods: exact expected tracks."""

import numpy as np
import pytest

from dl_suite.errors import ConfigError
from dl_suite.tracking.linking import TrackingParams, track_labels
from dl_suite.tracking.spots import Scale
from tests.tracking.fixtures import division_video, gap_video


def _segments(tracks):
    """{(first frame, label at first frame): (parent's (first frame, label) or None, frames)}."""
    spots = tracks.spots
    key = {}
    for track_id, group in spots.groupby("track_id"):
        first = group.sort_values("frame").iloc[0]
        key[track_id] = (int(first["frame"]), int(first["label"]))
    out = {}
    for row in tracks.segments.itertuples():
        frames = tuple(sorted(spots.loc[spots["track_id"] == row.track_id, "frame"]))
        out[key[row.track_id]] = (key.get(row.parent_track_id), frames)
    return out


@pytest.mark.parametrize("method", ["lap", "overlap"])
def test_division_fixture(method):
    tracks = track_labels(division_video().astype(np.int32), TrackingParams(method=method))
    assert _segments(tracks) == {
        (0, 1): (None, (0, 1, 2)),
        (0, 4): (None, (0, 1, 2, 3, 4, 5)),
        (3, 2): ((0, 1), (3, 4, 5)),
        (3, 3): ((0, 1), (3, 4, 5)),
    }
    assert tracks.num_divisions == 1
    # mother and daughters form one lineage, the still cell another
    assert tracks.spots.groupby("tree_id")["label"].apply(set).tolist() == [{1, 2, 3}, {4}]
    # edges: 2 + 5 within segments... mother 2, still cell 5, daughters 2 + 2, split 2
    assert len(tracks.edges) == 13
    split = tracks.edges[(tracks.edges["source_frame"] == 2) & (tracks.edges["target_frame"] == 3)]
    assert len(split) == 3 and split["source"].value_counts().max() == 2


@pytest.mark.parametrize("method", ["lap", "overlap"])
def test_gap_fixture_closed_and_not(method):
    video = gap_video().astype(np.int32)
    closed = _segments(track_labels(video, TrackingParams(method=method, max_gap=1)))
    assert closed == {(0, 1): (None, (0, 1, 2, 4, 5)), (0, 2): (None, (0, 1, 2, 3, 4, 5))}
    open_ = _segments(track_labels(video, TrackingParams(method=method, max_gap=0)))
    assert open_ == {(0, 1): (None, (0, 1, 2)), (4, 1): (None, (4, 5)),
                     (0, 2): (None, (0, 1, 2, 3, 4, 5))}


def test_divisions_off_links_one_daughter_only():
    tracks = track_labels(division_video().astype(np.int32), TrackingParams(divisions=False))
    assert tracks.num_divisions == 0
    assert (tracks.segments["parent_track_id"] == -1).all()
    assert len(tracks.segments) == 3  # mother continued by one daughter, other daughter, still cell
    assert sorted(tracks.segments["num_spots"]) == [3, 6, 6]


def test_physical_distance_uses_calibration():
    video = gap_video().astype(np.int32)  # the gap jump is 4 px = 2 um at 0.5 um/px
    scale = Scale(dy=0.5, dx=0.5, unit="um")
    far = track_labels(video, TrackingParams(max_distance=2.5, distance_unit="physical"), scale)
    near = track_labels(video, TrackingParams(max_distance=1.5, distance_unit="physical"), scale)
    assert far.spots.loc[far.spots["label"] == 1, "x"].max() == pytest.approx(16 * 0.5)
    assert len(far.segments) == 2
    assert len(near.segments) == 3  # 1.5 um < 2 um: the gap is not closed
    as_pixels = track_labels(video, TrackingParams(max_distance=3.0, distance_unit="pixel"), scale)
    assert len(as_pixels.segments) == 3  # 3 px < 4 px


def test_min_track_length_drops_short_lineages():
    video = gap_video().astype(np.int32)
    tracks = track_labels(video, TrackingParams(max_gap=0, min_track_length=3))
    assert sorted(tracks.spots["label"].unique()) == [1, 2]
    assert set(tracks.spots.loc[tracks.spots["label"] == 1, "frame"]) == {0, 1, 2}
    assert tracks.spots["spot_id"].tolist() == list(range(len(tracks.spots)))


def test_bad_parameters_are_all_reported():
    with pytest.raises(ConfigError) as info:
        TrackingParams(method="nearest", max_distance=0, max_gap=-1, distance_unit="um").check()
    assert len(info.value.problems) == 4
    assert "tracking.method = 'nearest'" in str(info.value)
