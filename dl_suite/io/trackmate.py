"""TrackMate session XML (`File > Load a TrackMate file`), following INTEROP.md section 1.

The writer takes plain tables (no tracking objects), writes every element TrackMate's reader
requires, declares every feature it writes, formats numbers as Java doubles and writes the file
atomically. Spot contours are written relative to the spot position, in physical units.
"""

import json
import math
import os
import xml.etree.ElementTree as ET
from pathlib import Path

from dl_suite.io.imagej import temp_path_for

TRACKMATE_VERSION = "7.14.0"

# feature -> (name, shortname, dimension, isint)
SPOT_FEATURES = {
    "QUALITY": ("Quality", "Quality", "QUALITY", False),
    "POSITION_X": ("X", "X", "POSITION", False),
    "POSITION_Y": ("Y", "Y", "POSITION", False),
    "POSITION_Z": ("Z", "Z", "POSITION", False),
    "POSITION_T": ("T", "T", "TIME", False),
    "FRAME": ("Frame", "Frame", "NONE", True),
    "RADIUS": ("Radius", "R", "LENGTH", False),
    "VISIBILITY": ("Visibility", "Visibility", "NONE", True),
    "AREA": ("Area", "Area", "AREA", False),
    "PERIMETER": ("Perimeter", "Perim.", "LENGTH", False),
    "SOLIDITY": ("Solidity", "Solidity", "NONE", False),
    "ECCENTRICITY": ("Eccentricity", "Ecc.", "NONE", False),
    "MEAN_INTENSITY_CH1": ("Mean intensity ch1", "Mean ch1", "INTENSITY", False),
    "LABEL_VALUE": ("Label in the label video", "Label", "NONE", True),
}
EDGE_FEATURES = {
    "SPOT_SOURCE_ID": ("Source spot ID", "Source ID", "NONE", True),
    "SPOT_TARGET_ID": ("Target spot ID", "Target ID", "NONE", True),
    "LINK_COST": ("Edge cost", "Cost", "COST", False),
    "EDGE_TIME": ("Edge time", "Edge T", "TIME", False),
    "DISPLACEMENT": ("Displacement", "Disp.", "LENGTH", False),
    "SPEED": ("Speed", "Speed", "VELOCITY", False),
}
TRACK_FEATURES = {
    "TRACK_INDEX": ("Track index", "Index", "NONE", True),
    "TRACK_ID": ("Track ID", "ID", "NONE", True),
    "NUMBER_SPOTS": ("Number of spots in track", "N spots", "NONE", True),
    "NUMBER_GAPS": ("Number of gaps", "N gaps", "NONE", True),
    "NUMBER_SPLITS": ("Number of split events", "N splits", "NONE", True),
    "TRACK_START": ("Track start", "Track start", "TIME", False),
    "TRACK_STOP": ("Track stop", "Track stop", "TIME", False),
    "TRACK_DURATION": ("Track duration", "Duration", "TIME", False),
    "TRACK_DISPLACEMENT": ("Track displacement", "Track disp.", "LENGTH", False),
    "TOTAL_DISTANCE_TRAVELED": ("Total distance traveled", "Total dist.", "LENGTH", False),
    "TRACK_MEAN_SPEED": ("Track mean speed", "Mean sp.", "VELOCITY", False),
    "TRACK_MAX_SPEED": ("Track max speed", "Max speed", "VELOCITY", False),
}


def java_double(value):
    """A number as Java's Double.valueOf reads it (NaN, Infinity; never 'nan' or 'True')."""
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _declare(parent, tag, features, used):
    block = ET.SubElement(parent, tag)
    for key, (name, short, dimension, isint) in features.items():
        if key in used:
            ET.SubElement(block, "Feature", feature=key, name=name, shortname=short,
                          dimension=dimension, isint="true" if isint else "false")


def _tracker_settings(settings, tracker):
    if not tracker:
        ET.SubElement(settings, "TrackerSettings", TRACKER_NAME="MANUAL_TRACKER")
        return
    element = ET.SubElement(settings, "TrackerSettings", TRACKER_NAME="SPARSE_LAP_TRACKER",
                            CUTOFF_PERCENTILE="0.9", ALTERNATIVE_LINKING_COST_FACTOR="1.05",
                            BLOCKING_VALUE="Infinity")
    d, gap = java_double(tracker["max_distance"]), int(tracker["max_gap"])
    children = (
        ("Linking", {"LINKING_MAX_DISTANCE": d}),
        ("GapClosing", {"ALLOW_GAP_CLOSING": "true" if gap > 0 else "false",
                        "GAP_CLOSING_MAX_DISTANCE": d, "MAX_FRAME_GAP": str(gap + 1)}),
        ("TrackSplitting", {"ALLOW_TRACK_SPLITTING": "true" if tracker["divisions"] else "false",
                            "SPLITTING_MAX_DISTANCE": d}),
        ("TrackMerging", {"ALLOW_TRACK_MERGING": "false", "MERGING_MAX_DISTANCE": d}),
    )
    for tag, attributes in children:
        ET.SubElement(ET.SubElement(element, tag, **attributes), "FeaturePenalties")


def build_trackmate_tree(spots, contours, tracks, image, *, spatial_unit="pixel", time_unit="frame",
                         tracker=None, log=""):
    """The TrackMate XML tree.

    Args:
        spots: list of dicts: ID (int), FRAME (int) and numeric features (keys of SPOT_FEATURES;
            every spot must carry the same keys).
        contours: dict ID -> list of (x, y) relative to the spot centre, physical units.
        tracks: list of dicts: TRACK_ID, track features, and "edges": list of dicts with
            SPOT_SOURCE_ID, SPOT_TARGET_ID and edge features. Each must have >= 1 edge.
        image: dict with filename, folder, width, height, nslices, nframes, pixelwidth,
            pixelheight, voxeldepth, timeinterval and target_channel.
        spatial_unit, time_unit: unit labels; tracker: dict max_distance, max_gap, divisions.

    Returns:
        xml.etree.ElementTree.ElementTree.
    """
    root = ET.Element("TrackMate", version=TRACKMATE_VERSION)
    ET.SubElement(root, "Log").text = log
    model = ET.SubElement(root, "Model", spatialunits=spatial_unit, timeunits=time_unit)
    declarations = ET.SubElement(model, "FeatureDeclarations")
    spot_keys = set(spots[0]) - {"ID"} if spots else set(SPOT_FEATURES)
    edge_keys = {k for t in tracks for e in t["edges"] for k in e} | {"SPOT_SOURCE_ID", "SPOT_TARGET_ID"}
    track_keys = {k for t in tracks for k in t if k != "edges"} | {"TRACK_ID", "TRACK_INDEX"}
    _declare(declarations, "SpotFeatures", SPOT_FEATURES, spot_keys)
    _declare(declarations, "EdgeFeatures", EDGE_FEATURES, edge_keys)
    _declare(declarations, "TrackFeatures", TRACK_FEATURES, track_keys)
    all_spots = ET.SubElement(model, "AllSpots", nspots=str(len(spots)))
    frames = {}
    for spot in spots:
        frames.setdefault(int(spot["FRAME"]), []).append(spot)
    for frame in sorted(frames):
        in_frame = ET.SubElement(all_spots, "SpotsInFrame", frame=str(frame))
        for spot in frames[frame]:
            attributes = {"ID": str(int(spot["ID"])), "name": f"ID{int(spot['ID'])}"}
            attributes.update({k: java_double(v) for k, v in spot.items() if k != "ID"})
            polygon = contours.get(int(spot["ID"]))
            if polygon is not None and len(polygon) >= 3:
                attributes["ROI_N_POINTS"] = str(len(polygon))
            element = ET.SubElement(in_frame, "Spot", **attributes)
            if polygon is not None and len(polygon) >= 3:
                element.text = " ".join(java_double(v) for xy in polygon for v in xy)
    all_tracks = ET.SubElement(model, "AllTracks")
    for index, track in enumerate(tracks):
        attributes = {"name": f"Track_{int(track['TRACK_ID'])}", "TRACK_INDEX": str(index)}
        attributes.update({k: java_double(v) for k, v in track.items() if k != "edges"})
        element = ET.SubElement(all_tracks, "Track", **attributes)
        for edge in track["edges"]:
            ET.SubElement(element, "Edge", **{k: java_double(v) for k, v in edge.items()})
    filtered = ET.SubElement(model, "FilteredTracks")
    for track in tracks:
        ET.SubElement(filtered, "TrackID", TRACK_ID=str(int(track["TRACK_ID"])))
    _settings(root, image, tracker)
    ET.SubElement(root, "GUIState", state="ConfigureViews")
    ET.SubElement(root, "DisplaySettings").text = json.dumps({})
    ET.indent(root)
    return ET.ElementTree(root)


def _settings(root, image, tracker):
    settings = ET.SubElement(root, "Settings")
    ET.SubElement(settings, "ImageData", **{k: (str(v) if isinstance(v, str) else java_double(v))
                                            for k, v in image.items() if k != "target_channel"})
    w, h, z, t = (int(image[k]) for k in ("width", "height", "nslices", "nframes"))
    ET.SubElement(settings, "BasicSettings", xstart="0", xend=str(w - 1), ystart="0",
                  yend=str(h - 1), zstart="0", zend=str(z - 1), tstart="0", tend=str(t - 1))
    ET.SubElement(settings, "DetectorSettings", DETECTOR_NAME="LABEL_IMAGE_DETECTOR",
                  TARGET_CHANNEL=str(int(image.get("target_channel", 1))), SIMPLIFY_CONTOURS="false")
    ET.SubElement(settings, "InitialSpotFilter", feature="QUALITY", value="0.0", isabove="true")
    ET.SubElement(settings, "SpotFilterCollection")
    _tracker_settings(settings, tracker)
    ET.SubElement(settings, "TrackFilterCollection")
    analyzers = ET.SubElement(settings, "AnalyzerCollection")
    for tag in ("SpotAnalyzers", "EdgeAnalyzers", "TrackAnalyzers"):
        ET.SubElement(analyzers, tag)


def write_trackmate_xml(path, spots, contours, tracks, image, **kwargs):
    """Writes a TrackMate session file atomically (arguments as in `build_trackmate_tree`).

    Returns:
        Path of the file.
    """
    path = Path(path)
    tree = build_trackmate_tree(spots, contours, tracks, image, **kwargs)
    tmp = temp_path_for(path)
    try:
        tree.write(tmp, encoding="UTF-8", xml_declaration=True)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path
