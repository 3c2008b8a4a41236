"""Linking spots over time with laptrack: LAP on centroids (TrackMate's tracker) or label overlap.

Both methods do frame-to-frame linking, gap closing over up to `max_gap` missing frames and,
when `divisions` is on, splitting (one parent segment, two daughter segments). Merges are never
allowed (CTC forbids them). laptrack works with squared distances, so cutoffs are d**2.
"""

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dl_suite.errors import ConfigError
from dl_suite.tracking.spots import Scale, measure_spots
from dl_suite.tracking.tracks import build_tracks

logger = logging.getLogger(__name__)

METHODS = ("lap", "overlap")
DISTANCE_UNITS = ("physical", "pixel")


@dataclass(frozen=True)
class TrackingParams:
    """Tracking options (the `[tracking]` config section, see schema/tracking.json)."""

    method: str = "lap"
    max_distance: float = 15.0
    distance_unit: str = "pixel"
    max_gap: int = 1
    divisions: bool = True
    min_track_length: int = 1
    min_overlap: float = 0.1

    @classmethod
    def from_config(cls, section):
        """From a `[tracking]` config section (extra keys ignored)."""
        names = cls.__dataclass_fields__
        return cls(**{k: v for k, v in dict(section).items() if k in names})

    def check(self):
        """Raises ConfigError listing every bad value."""
        problems = []
        if self.method not in METHODS:
            problems.append(f"tracking.method = {self.method!r}; expected one of {', '.join(METHODS)}.")
        if self.distance_unit not in DISTANCE_UNITS:
            problems.append(f"tracking.distance_unit = {self.distance_unit!r}; expected "
                            f"{' or '.join(DISTANCE_UNITS)}.")
        if not self.max_distance > 0:
            problems.append(f"tracking.max_distance = {self.max_distance!r}; expected a number > 0.")
        if int(self.max_gap) < 0:
            problems.append(f"tracking.max_gap = {self.max_gap!r}; expected 0 (no gap closing) or more.")
        if int(self.min_track_length) < 1:
            problems.append(f"tracking.min_track_length = {self.min_track_length!r}; expected >= 1.")
        if not 0 < self.min_overlap <= 1:
            problems.append(f"tracking.min_overlap = {self.min_overlap!r}; expected 0 < value <= 1.")
        if problems:
            raise ConfigError(problems)


def max_distance_physical(params, scale):
    """The linking distance in the units of the spot positions (physical, or pixels)."""
    if params.distance_unit == "pixel" or not scale.calibrated:
        if params.distance_unit == "physical":
            logger.warning("tracking.distance_unit is 'physical' but the video is uncalibrated: "
                           "max_distance = %g is taken in pixels.", params.max_distance)
        return params.max_distance * np.sqrt(scale.dx * scale.dy)
    return float(params.max_distance)


def _lap(spots, params, scale):
    from laptrack import LapTrack

    cutoff = max_distance_physical(params, scale) ** 2
    tracker = LapTrack(
        cutoff=cutoff,
        gap_closing_cutoff=cutoff if params.max_gap > 0 else False,
        gap_closing_max_frame_count=int(params.max_gap) + 1,
        splitting_cutoff=cutoff if params.divisions else False,
        merging_cutoff=False,
        # Explicit birth/death costs: laptrack's automatic ones depend on the data and made it
        # prefer new tracks over divisions on small videos (INTEROP.md 5).
        track_start_cost=cutoff, track_end_cost=cutoff,
        segment_start_cost=cutoff, segment_end_cost=cutoff,
    )
    track_df, split_df, _ = tracker.predict_dataframe(
        spots[["frame", "y", "x", "spot_id"]], ["y", "x"], only_coordinate_cols=False)
    return track_df[["spot_id", "track_id", "tree_id"]], split_df


def _overlap(spots, labels, params):
    from laptrack import OverLapTrack

    cutoff = 1.0 - float(params.min_overlap)
    tracker = OverLapTrack(
        cutoff=cutoff, metric_coefs=(1.0, 0.0, -1.0, 0.0, 0.0),  # 1 - IoU
        gap_closing_cutoff=cutoff if params.max_gap > 0 else False,
        gap_closing_metric_coefs=(1.0, 0.0, -1.0, 0.0, 0.0),
        gap_closing_max_frame_count=int(params.max_gap) + 1,
        # A daughter lies mostly inside its mother's previous area: 1 - overlap / daughter area.
        splitting_cutoff=cutoff if params.divisions else False,
        splitting_metric_coefs=(1.0, 0.0, 0.0, 0.0, -1.0),
        merging_cutoff=False,
    )
    track_df, split_df, _ = tracker.predict_overlap_dataframe(labels)
    track_df = track_df.reset_index()[["frame", "label", "track_id", "tree_id"]]
    merged = spots[["spot_id", "frame", "label"]].merge(track_df, on=["frame", "label"], how="left")
    return merged[["spot_id", "track_id", "tree_id"]], split_df


def track_labels(labels, params=TrackingParams(), scale=Scale(), image=None):
    """Measures and links the objects of a label video.

    Args:
        labels: int array (T, Y, X) (checked with `dl_suite.io.label_hyperstack.check_label_video`).
        params: TrackingParams.
        scale: pixel size and frame interval (`scale_from_calibration`).
        image: optional raw video (T, Y, X) for intensity measurements.

    Returns:
        dl_suite.tracking.tracks.Tracks.
    """
    params.check()
    spots = measure_spots(labels, image=image, scale=scale)
    if params.method == "lap":
        assignment, split_df = _lap(spots, params, scale)
    else:
        assignment, split_df = _overlap(spots, labels, params)
    spots = spots.merge(assignment, on="spot_id", how="left")
    if spots["track_id"].isna().any():  # never expected: laptrack assigns every spot
        raise RuntimeError("laptrack left some spots without a track.")
    spots[["track_id", "tree_id"]] = spots[["track_id", "tree_id"]].astype(int)
    split_df = split_df.reindex(columns=["child_track_id", "parent_track_id"])
    parents = pd.DataFrame({"track_id": split_df["child_track_id"].astype(int).to_numpy(),
                            "parent_track_id": split_df["parent_track_id"].astype(int).to_numpy()})
    return build_tracks(spots, parents, scale, labels.shape, params.min_track_length)
