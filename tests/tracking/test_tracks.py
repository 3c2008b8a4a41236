"""Per-spot and per-track measurements, and the contour tracer, against hand-computed values."""

import numpy as np
import pytest
from scipy import ndimage

from dl_suite.tracking.contours import outer_contour, polygon_area_centroid, polygon_perimeter
from dl_suite.tracking.linking import TrackingParams, track_labels
from dl_suite.tracking.spots import Scale, measure_spots
from dl_suite.tracking.tracks import spot_speeds, track_table
from tests.tracking.fixtures import division_video, gap_video


def test_spot_measures_of_a_rectangle():
    labels = np.zeros((1, 10, 12), np.int32)
    labels[0, 2:5, 3:9] = 7  # 3 rows x 6 cols
    image = np.full((1, 10, 12), 5.0)
    image[0, 2:5, 3:6] = 11.0  # left half brighter: mean 8
    spots = measure_spots(labels, image, Scale(dy=0.5, dx=0.25, unit="um"))
    row = spots.iloc[0]
    assert (row["label"], row["frame"], row["area"]) == (7, 0, 18)
    assert (row["row"], row["col"]) == (3.0, 5.5)
    assert (row["y"], row["x"]) == (1.5, 1.375)
    assert row["area_phys"] == pytest.approx(18 * 0.125)
    assert row["radius"] == pytest.approx(np.sqrt(18 * 0.125 / np.pi))
    assert row["solidity"] == pytest.approx(1.0)
    assert row["mean_intensity"] == pytest.approx(8.0)
    assert row["num_components"] == 1


def test_gap_track_measures():
    tracks = track_labels(gap_video().astype(np.int32), TrackingParams(max_gap=1),
                          Scale(dy=0.5, dx=0.5, unit="um", dt=2.0, time_unit="min"))
    table = track_table(tracks).set_index("track_id")
    moving = table.loc[0]  # cell 1: x = 6, 8, 10, -, 14, 16 px = 3 ... 8 um, frames 0..5
    assert (moving["num_spots"], moving["num_gaps"], moving["num_divisions"]) == (5, 1, 0)
    assert moving["duration"] == 10.0  # 5 frames x 2 min
    assert moving["total_distance"] == pytest.approx(5.0)  # 10 px x 0.5 um
    assert moving["displacement"] == pytest.approx(5.0)
    assert moving["mean_speed"] == pytest.approx(0.5) and moving["max_speed"] == pytest.approx(0.5)
    still = table.loc[1]
    assert (still["num_spots"], still["total_distance"], still["num_gaps"]) == (6, 0.0, 0)
    speeds = spot_speeds(tracks)
    assert speeds.isna().sum() == 2  # the first spot of each track
    assert np.nanmax(speeds) == pytest.approx(0.5)


def test_division_counts():
    table = track_table(track_labels(division_video().astype(np.int32), TrackingParams()))
    assert table["num_divisions"].tolist() == [1, 0]
    assert table["num_segments"].tolist() == [3, 1]
    assert table["num_spots"].tolist() == [9, 6]


def test_contour_of_a_rectangle_is_on_pixel_corners():
    xy = outer_contour(np.ones((2, 3), bool))
    assert xy.tolist() == [[-0.5, -0.5], [2.5, -0.5], [2.5, 1.5], [-0.5, 1.5]]
    assert polygon_perimeter(xy) == 10.0


def test_contour_area_and_centroid_match_pixels():
    rng = np.random.default_rng(0)
    for _ in range(60):
        mask = ndimage.binary_opening(rng.random((14, 14)) > 0.4)
        if not mask.any():
            continue
        parts, count = ndimage.label(mask)
        largest = parts == 1 + np.argmax(np.bincount(parts.ravel())[1:])
        # 8-connected background: a "hole" open through a diagonal pinch is outside
        filled = ndimage.binary_fill_holes(largest, structure=np.ones((3, 3)))
        area, (cx, cy) = polygon_area_centroid(outer_contour(mask))
        rows, cols = np.nonzero(filled)
        assert area == filled.sum()
        assert (cx, cy) == (pytest.approx(cols.mean()), pytest.approx(rows.mean()))
