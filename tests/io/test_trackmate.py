"""TrackMate XML acceptance checks (INTEROP.md 1.9) and the pytrackmate round trip (section 3)."""

import json
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import tifffile

from dl_suite.io.imagej import Calibration
from dl_suite.io.trackmate import java_double
from dl_suite.tracking.contours import polygon_area_centroid
from tests.tracking.fixtures import division_video, export_video, gap_video

DIMENSIONS = set("NONE QUALITY COST INTENSITY INTENSITY_SQUARED POSITION VELOCITY LENGTH AREA TIME "
                 "ANGLE RATE ANGLE_RATE STRING".split())
JAVA_DOUBLE = re.compile(r"^[+-]?(NaN|Infinity|\d+(\.\d*)?([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?)$")
CAL = Calibration(pixel_size=0.5, unit="um", frame_interval=2.0, time_unit="min")


@pytest.fixture(scope="module", params=["division", "gap"])
def exported(request, tmp_path_factory):
    video = division_video() if request.param == "division" else gap_video()
    folder = tmp_path_factory.mktemp(request.param)
    image = (video > 0) * 100 + 7  # objects 107, background 7
    tracks, files = export_video(folder, video, name=request.param, image=image, calibration=CAL)
    return tracks, files, ET.parse(files["trackmate_xml"]).getroot()


def test_java_double():
    assert [java_double(v) for v in (3, 2.5, float("nan"), float("inf"), -float("inf"), 1.5e-20)] == \
        ["3", "2.5", "NaN", "Infinity", "-Infinity", "1.5e-20"]


def test_structure(exported):
    _, _, root = exported
    assert root.tag == "TrackMate" and re.fullmatch(r"\d+(\.\d+)+", root.get("version"))  # 1
    assert tuple(map(int, root.get("version").split("."))) >= (2, 1, 0)
    for path in ("Model", "Model/FeatureDeclarations/SpotFeatures", "Model/FeatureDeclarations/EdgeFeatures",
                 "Model/FeatureDeclarations/TrackFeatures", "Model/AllSpots", "Model/AllTracks",
                 "Model/FilteredTracks"):  # 2
        assert root.find(path) is not None, path
    for child in ("ImageData", "InitialSpotFilter", "SpotFilterCollection", "TrackFilterCollection",
                  "DetectorSettings", "TrackerSettings", "AnalyzerCollection/SpotAnalyzers",
                  "AnalyzerCollection/EdgeAnalyzers", "AnalyzerCollection/TrackAnalyzers"):  # 3
        assert root.find(f"Settings/{child}") is not None, child
    assert root.find("GUIState").get("state") == "ConfigureViews"
    text = root.find("DisplaySettings").text or ""
    assert text == "" or isinstance(json.loads(text), dict)  # 4
    for feature in root.iter("Feature"):  # 5
        assert {"feature", "name", "shortname", "dimension", "isint"} <= set(feature.attrib)
        assert feature.get("dimension") in DIMENSIONS and feature.get("isint") in ("true", "false")


def test_spots(exported):
    tracks, _, root = exported
    spots = list(root.iter("Spot"))
    assert int(root.find("Model/AllSpots").get("nspots")) == len(spots) == len(tracks.spots)  # 6
    frames = [f.get("frame") for f in root.iter("SpotsInFrame")]
    assert all(f.isdigit() for f in frames) and len(set(frames)) == len(frames)
    declared = {f.get("feature") for f in root.find("Model/FeatureDeclarations/SpotFeatures")}
    threshold = float(root.find("Settings/InitialSpotFilter").get("value"))
    image = root.find("Settings/ImageData")
    width = float(image.get("width")) * float(image.get("pixelwidth"))
    ids = [s.get("ID") for s in spots]
    assert all(i.isdigit() for i in ids) and len(set(ids)) == len(ids)  # 7
    for frame in root.iter("SpotsInFrame"):
        for spot in frame:
            attrs = spot.attrib
            assert {"POSITION_X", "POSITION_Y", "POSITION_Z", "FRAME", "RADIUS", "VISIBILITY",
                    "QUALITY", "POSITION_T"} <= set(attrs)
            assert all(JAVA_DOUBLE.match(v) for k, v in attrs.items() if k != "name")
            assert int(float(attrs["FRAME"])) == int(frame.get("frame"))
            assert float(attrs["RADIUS"]) > 0 and float(attrs["QUALITY"]) > threshold
            assert float(attrs["POSITION_T"]) == 2.0 * int(attrs["FRAME"])
            assert set(attrs) - {"ID", "name", "ROI_N_POINTS"} <= declared  # 8
            assert declared <= set(attrs)  # pytrackmate needs every declared feature on every spot
            n = int(attrs["ROI_N_POINTS"])  # 9
            assert n >= 3 and not spot.text[0].isspace()
            xy = np.array(spot.text.split(), float).reshape(n, 2)
            area, (cx, cy) = polygon_area_centroid(xy)
            assert abs(cx) < 1e-6 and abs(cy) < 1e-6
            assert area == pytest.approx(float(attrs["AREA"]), rel=1e-9)
            assert area == pytest.approx(float(attrs["QUALITY"]) * 0.25, rel=1e-9)  # px * 0.5**2
            absolute = xy[:, 0] + float(attrs["POSITION_X"])
            assert absolute.min() >= -0.5 * 0.5 and absolute.max() <= width
            assert float(attrs["MEAN_INTENSITY_CH1"]) == 107.0


def test_tracks_and_edges(exported):
    tracks, _, root = exported
    frame_of = {s.get("ID"): int(s.get("FRAME")) for s in root.iter("Spot")}
    edge_decl = {f.get("feature") for f in root.find("Model/FeatureDeclarations/EdgeFeatures")}
    track_decl = {f.get("feature") for f in root.find("Model/FeatureDeclarations/TrackFeatures")}
    seen, track_ids = set(), []
    for track in root.find("Model/AllTracks"):  # 10
        track_ids.append(track.get("TRACK_ID"))
        assert set(track.attrib) - {"name"} <= track_decl
        edges = [(e.get("SPOT_SOURCE_ID"), e.get("SPOT_TARGET_ID")) for e in track.iter("Edge")]
        assert edges and len(set(edges)) == len(edges)
        for edge in track.iter("Edge"):
            assert set(edge.attrib) <= edge_decl
        nodes = {n for e in edges for n in e}
        assert all(frame_of[s] < frame_of[t] for s, t in edges)
        assert not nodes & seen
        seen |= nodes
        component, grow = {edges[0][0]}, True  # one weakly connected component
        while grow:
            new = {n for e in edges if set(e) & component for n in e} - component
            component |= new
            grow = bool(new)
        assert component == nodes
    assert len(set(track_ids)) == len(track_ids)
    filtered = [t.get("TRACK_ID") for t in root.find("Model/FilteredTracks")]
    assert filtered == track_ids  # 11
    # INTEROP 5 check 4: edges = consecutive spots of a segment plus mother -> daughter
    assert sum(1 for _ in root.iter("Edge")) == len(tracks.edges)
    assert len(track_ids) == tracks.spots["tree_id"].nunique()


def test_image_data_matches_tiff(exported):
    _, files, root = exported
    image = root.find("Settings/ImageData")
    path = files["trackmate_xml"].parent / image.get("filename")  # 12
    assert path == files["raw_labels_tif"] and path.is_file()
    with tifffile.TiffFile(path) as tif:
        meta = tif.imagej_metadata
        dx = tif.pages[0].tags["XResolution"].value
        assert tif.series[0].axes == "TCYX"
        assert int(image.get("nframes")) == meta["frames"] == 6
        assert int(image.get("nslices")) == meta.get("slices", 1) == 1
        assert (int(image.get("width")), int(image.get("height"))) == tif.pages[0].shape[::-1]
        assert float(image.get("pixelwidth")) == pytest.approx(dx[1] / dx[0], rel=1e-6)
        assert float(image.get("timeinterval")) == meta["finterval"] == 2.0
    assert root.find("Settings/DetectorSettings").get("TARGET_CHANNEL") == "2"
    assert root.find("Model").get("spatialunits") == "µm"


def test_pytrackmate_round_trip(exported):
    from pytrackmate import trackmate_peak_import

    tracks, files, root = exported
    path = str(files["trackmate_xml"])
    assert len(trackmate_peak_import(path)) == len(tracks.spots)  # section 3, check 1
    df = trackmate_peak_import(path, get_tracks=True).set_index("spot_id")
    ours = tracks.spots.set_index("spot_id")
    for tree_id, group in ours.groupby("tree_id"):  # check 2
        if len(group) > 1:
            assert df.loc[group.index.astype(float), "label"].nunique() == 1
    labels = [df.loc[g.index.astype(float), "label"].iloc[0] for _, g in ours.groupby("tree_id")]
    assert len(set(labels)) == len(labels)
    assert np.allclose(df.loc[ours.index.astype(float), "x"], ours["x"], atol=1e-9)  # check 3
    assert np.allclose(df.loc[ours.index.astype(float), "y"], ours["y"], atol=1e-9)
    assert np.array_equal(df.loc[ours.index.astype(float), "t_stamp"], ours["frame"])


def test_label_tiff_frames_hold_the_exported_spots(exported):
    """INTEROP 2.3 check 5: per frame, the labels in the TIFF are the spots' LABEL_VALUEs."""
    _, files, root = exported
    data = tifffile.imread(files["labels_tif"])
    for frame in root.iter("SpotsInFrame"):
        values = {int(s.get("LABEL_VALUE")) for s in frame}
        assert set(np.unique(data[int(frame.get("frame"))])) - {0} == values
