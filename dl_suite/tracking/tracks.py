"""The track data structure: spots, segments (with parents) and edges, plus per-track measures.

- A *segment* (`track_id`) is a run of spots of one cell between branch events; it may skip
  frames (gap closing). At a division the mother segment ends and each daughter segment has
  `parent_track_id` = the mother's `track_id` (-1 = no parent).
- A *track* (`tree_id`) is a lineage: a segment and all its descendants (TrackMate's track).
- An *edge* joins two spots: consecutive spots of a segment, and mother's last spot -> each
  daughter's first spot.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dl_suite.tracking.spots import Scale


@dataclass
class Tracks:
    """Result of tracking a label video.

    Attributes:
        spots: one row per spot (see `measure_spots`) plus track_id, tree_id.
        segments: track_id, parent_track_id (-1 = none), tree_id, start, end, num_spots.
        edges: source, target (spot ids), source_frame, target_frame, distance (physical).
        scale: Scale of positions and times.
        shape: (T, Y, X) of the label video.
    """

    spots: pd.DataFrame
    segments: pd.DataFrame
    edges: pd.DataFrame
    scale: Scale
    shape: tuple

    @property
    def num_divisions(self):
        return int(self.segments.groupby("parent_track_id").size().drop(-1, errors="ignore").size)


def _edges(spots, segments):
    rows = []
    for track_id, group in spots.groupby("track_id", sort=True):
        ids = group.sort_values("frame")["spot_id"].to_numpy()
        rows += list(zip(ids[:-1], ids[1:]))
    last = spots.sort_values("frame").groupby("track_id")["spot_id"].last()
    first = spots.sort_values("frame").groupby("track_id")["spot_id"].first()
    for row in segments.itertuples():
        if row.parent_track_id >= 0:
            rows.append((last[row.parent_track_id], first[row.track_id]))
    edges = pd.DataFrame(rows, columns=["source", "target"], dtype=int)
    pos = spots.set_index("spot_id")
    src, dst = pos.loc[edges["source"]], pos.loc[edges["target"]]
    edges["source_frame"] = src["frame"].to_numpy()
    edges["target_frame"] = dst["frame"].to_numpy()
    edges["distance"] = np.hypot(dst["y"].to_numpy() - src["y"].to_numpy(),
                                 dst["x"].to_numpy() - src["x"].to_numpy())
    return edges.sort_values(["source_frame", "source", "target"], ignore_index=True)


def build_tracks(spots, parents, scale, shape, min_track_length=1):
    """Assembles `Tracks` from spots with laptrack's track_id/tree_id and its split table.

    Tracks (lineages) spanning fewer than `min_track_length` frames are dropped; ids are then
    renumbered from 0 in order of first appearance (frame, then spot), so results are stable.
    """
    spots = spots.copy()
    span = spots.groupby("tree_id")["frame"].agg(lambda f: f.max() - f.min() + 1)
    keep = span.index[span >= int(min_track_length)]
    spots = spots[spots["tree_id"].isin(keep)].reset_index(drop=True)
    order = spots.sort_values(["frame", "spot_id"])
    seg_new = {old: i for i, old in enumerate(order["track_id"].drop_duplicates())}
    tree_new = {old: i for i, old in enumerate(order["tree_id"].drop_duplicates())}
    spot_new = {old: i for i, old in enumerate(order["spot_id"])}
    parent_of = {seg_new[c]: seg_new[p] for c, p in zip(parents["track_id"], parents["parent_track_id"])
                 if c in seg_new and p in seg_new}
    spots["track_id"] = spots["track_id"].map(seg_new)
    spots["tree_id"] = spots["tree_id"].map(tree_new)
    spots["spot_id"] = spots["spot_id"].map(spot_new)
    spots = spots.sort_values("spot_id", ignore_index=True)
    grouped = spots.groupby("track_id")
    segments = pd.DataFrame({
        "track_id": grouped.size().index,
        "tree_id": grouped["tree_id"].first().to_numpy(),
        "start": grouped["frame"].min().to_numpy(),
        "end": grouped["frame"].max().to_numpy(),
        "num_spots": grouped.size().to_numpy(),
    })
    segments.insert(1, "parent_track_id", [parent_of.get(s, -1) for s in segments["track_id"]])
    return Tracks(spots, segments, _edges(spots, segments), scale, tuple(shape))


def spot_speeds(tracks):
    """Per spot: speed from the previous spot of its segment (or its mother), NaN at a start."""
    edges = tracks.edges
    dt = (edges["target_frame"] - edges["source_frame"]) * tracks.scale.dt
    speed = pd.Series((edges["distance"] / dt).to_numpy(), index=edges["target"].to_numpy())
    return tracks.spots["spot_id"].map(speed)


def track_table(tracks):
    """Per-track (lineage) measures: frames, duration, distance travelled, speeds, displacement,
    divisions and gaps, in the units of `tracks.scale`.

    Returns:
        DataFrame, one row per tree_id.
    """
    scale, spots, edges = tracks.scale, tracks.spots, tracks.edges
    tree_of = spots.set_index("spot_id")["tree_id"]
    edges = edges.assign(tree_id=edges["source"].map(tree_of).to_numpy(),
                         speed=edges["distance"] / ((edges["target_frame"] - edges["source_frame"]) * scale.dt),
                         gap=edges["target_frame"] - edges["source_frame"] - 1)
    rows = []
    for tree_id, group in spots.groupby("tree_id"):
        ordered = group.sort_values(["frame", "spot_id"])
        first, last = ordered.iloc[0], ordered.iloc[-1]
        tree_edges = edges[edges["tree_id"] == tree_id]
        segs = tracks.segments[tracks.segments["tree_id"] == tree_id]
        rows.append({
            "track_id": int(tree_id),
            "num_spots": len(group),
            "start_frame": int(first["frame"]),
            "end_frame": int(last["frame"]),
            "duration": float((last["frame"] - first["frame"]) * scale.dt),
            "total_distance": float(tree_edges["distance"].sum()),
            "mean_speed": float(tree_edges["speed"].mean()) if len(tree_edges) else np.nan,
            "max_speed": float(tree_edges["speed"].max()) if len(tree_edges) else np.nan,
            "displacement": float(np.hypot(last["y"] - first["y"], last["x"] - first["x"])),
            "num_divisions": int(segs.loc[segs["parent_track_id"] >= 0, "parent_track_id"].nunique()),
            "num_gaps": int((tree_edges["gap"] > 0).sum()),
            "num_segments": len(segs),
            "mean_area": float(group["area_phys"].mean()),
        })
    return pd.DataFrame(rows)
