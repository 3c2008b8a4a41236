"""Tracks -> files: measurement CSVs, label hyperstacks, TrackMate XML and a CTC result folder.

All writing goes through `dl_suite.io`; this module only shapes the data. Label values in the
exported label videos are the CTC labels (one per gap-free piece of a track), so the hyperstack,
the CTC masks and the `LABEL_VALUE` of TrackMate spots agree.
"""

import logging
from pathlib import Path

import numpy as np

from dl_suite.io.ctc_results import write_ctc_results
from dl_suite.io.label_hyperstack import write_label_hyperstack, write_raw_labels_hyperstack
from dl_suite.io.tables import write_csv
from dl_suite.io.trackmate import write_trackmate_xml
from dl_suite.tracking.contours import polygon_area_centroid, polygon_perimeter, spot_contours
from dl_suite.tracking.ctc import ctc_pieces, relabel_video
from dl_suite.tracking.tracks import spot_speeds, track_table

logger = logging.getLogger(__name__)

SPOT_CSV_COLUMNS = ("spot_id", "frame", "label", "ctc_label", "track_id", "tree_id", "row", "col",
                    "y", "x", "area", "area_phys", "perimeter", "perimeter_phys", "radius",
                    "eccentricity", "solidity", "mean_intensity", "speed", "num_components")


def spot_table(tracks, spot_labels):
    """Per-spot measures with the CTC label and the instantaneous speed (CSV columns)."""
    spots = tracks.spots.assign(ctc_label=tracks.spots["spot_id"].map(spot_labels).to_numpy(),
                                speed=spot_speeds(tracks).to_numpy())
    return spots[list(SPOT_CSV_COLUMNS)]


def _unit_label(scale):
    return "µm" if scale.unit in ("um", "micron", "µm") else scale.unit


def trackmate_payload(tracks, labels, spot_labels, with_intensity=False):
    """Spots (with contours) and tracks as the dicts `write_trackmate_xml` takes.

    Only lineages with at least one edge become TrackMate tracks; single spots stay untracked.
    """
    scale, spots = tracks.scale, tracks.spots
    contours_px = spot_contours(labels, spots)
    spot_rows, contours = [], {}
    for spot in spots.itertuples():
        xy = contours_px[spot.spot_id] * np.array([scale.dx, scale.dy])
        area, _ = polygon_area_centroid(xy)
        row = {"ID": spot.spot_id, "FRAME": spot.frame, "POSITION_X": spot.x, "POSITION_Y": spot.y,
               "POSITION_Z": 0.0, "POSITION_T": spot.frame * scale.dt, "RADIUS": spot.radius,
               "QUALITY": spot.area, "VISIBILITY": 1, "AREA": area,
               "PERIMETER": polygon_perimeter(xy), "SOLIDITY": spot.solidity,
               "ECCENTRICITY": spot.eccentricity, "LABEL_VALUE": int(spot_labels[spot.spot_id])}
        if with_intensity:
            row["MEAN_INTENSITY_CH1"] = spot.mean_intensity
        spot_rows.append(row)
        contours[spot.spot_id] = xy - np.array([spot.x, spot.y])
    table = track_table(tracks).set_index("track_id")
    tree_of = spots.set_index("spot_id")["tree_id"]
    edges = tracks.edges.assign(tree_id=tracks.edges["source"].map(tree_of).to_numpy())
    track_rows = []
    for tree_id, group in edges.groupby("tree_id", sort=True):
        info = table.loc[tree_id]
        dt = (group["target_frame"] - group["source_frame"]) * scale.dt
        track_rows.append({
            "TRACK_ID": int(tree_id), "NUMBER_SPOTS": info["num_spots"],
            "NUMBER_GAPS": info["num_gaps"], "NUMBER_SPLITS": info["num_divisions"],
            "TRACK_START": info["start_frame"] * scale.dt, "TRACK_STOP": info["end_frame"] * scale.dt,
            "TRACK_DURATION": info["duration"], "TRACK_DISPLACEMENT": info["displacement"],
            "TOTAL_DISTANCE_TRAVELED": info["total_distance"],
            "TRACK_MEAN_SPEED": info["mean_speed"], "TRACK_MAX_SPEED": info["max_speed"],
            "edges": [{"SPOT_SOURCE_ID": s, "SPOT_TARGET_ID": t, "LINK_COST": d**2,
                       "EDGE_TIME": (fs + ft) / 2 * scale.dt, "DISPLACEMENT": d, "SPEED": d / step}
                      for s, t, fs, ft, d, step in zip(group["source"], group["target"],
                                                       group["source_frame"], group["target_frame"],
                                                       group["distance"], dt)],
        })
    return spot_rows, contours, track_rows


def export_tracks(folder, name, tracks, labels, *, image=None, calibration=None, tracker=None,
                  image_folder=None):
    """Writes every export of one tracked video into `folder`.

    Files: `<name>_spots.csv`, `<name>_tracks.csv`, `<name>_segments.csv`, `<name>_labels.tif`
    (TYX), `<name>_raw_labels.tif` (TCYX, with an image), `<name>_trackmate.xml` (pointing at the
    raw + labels hyperstack, else the label one) and the CTC folder `<name>_RES/`.

    Args:
        image_folder: the folder TrackMate should look in (default `folder`; pass the final
            folder when `folder` is a temporary one renamed afterwards).

    Returns:
        dict kind -> Path.
    """
    folder = Path(folder)
    rows, spot_labels = ctc_pieces(tracks)
    relabelled = relabel_video(labels, tracks, spot_labels)
    out = {
        "spots_csv": write_csv(folder / f"{name}_spots.csv", spot_table(tracks, spot_labels)),
        "tracks_csv": write_csv(folder / f"{name}_tracks.csv", track_table(tracks)),
        "segments_csv": write_csv(folder / f"{name}_segments.csv", tracks.segments),
        "labels_tif": write_label_hyperstack(folder / f"{name}_labels.tif", relabelled, calibration),
    }
    target = out["labels_tif"]
    if image is not None:
        out["raw_labels_tif"] = write_raw_labels_hyperstack(
            folder / f"{name}_raw_labels.tif", image, relabelled, calibration)
        target = out["raw_labels_tif"]
    spot_rows, contours, track_rows = trackmate_payload(
        tracks, labels, spot_labels, with_intensity=bool(tracks.spots["mean_intensity"].notna().all()))
    t, h, w = labels.shape
    scale = tracks.scale
    image_info = {"filename": target.name, "folder": str(Path(image_folder or folder).resolve()),
                  "width": w, "height": h, "nslices": 1, "nframes": t, "pixelwidth": scale.dx,
                  "pixelheight": scale.dy, "voxeldepth": 1.0, "timeinterval": scale.dt,
                  "target_channel": 2 if image is not None else 1}
    out["trackmate_xml"] = write_trackmate_xml(
        folder / f"{name}_trackmate.xml", spot_rows, contours, track_rows, image_info,
        spatial_unit=_unit_label(scale), time_unit=scale.time_unit, tracker=tracker,
        log=f"Tracked by dl-suite: {len(tracks.spots)} spots, {len(track_rows)} tracks.")
    out["ctc_dir"] = write_ctc_results(folder / f"{name}_RES", relabelled, rows.to_numpy())
    return out
