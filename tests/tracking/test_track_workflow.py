"""`dl-suite track` on label videos: outputs, scores, never overwriting, bad input, no half-writes."""

import json
import logging

import numpy as np
import pytest
import tifffile

from dl_suite.cli.main import main
from tests.tracking.fixtures import division_video, write_ground_truth


def _video(path, video, calibrated=True):
    kwargs = {"resolution": (2.0, 2.0)} if calibrated else {}
    metadata = {"axes": "TYX", "unit": "um", "finterval": 3.0} if calibrated else {"axes": "TYX"}
    tifffile.imwrite(path, video, imagej=True, metadata=metadata, **kwargs)
    return path


@pytest.fixture
def project(tmp_path):
    _video(tmp_path / "cells.tif", division_video())
    (tmp_path / "track.config").write_text(
        '[tracking]\nlabels = "cells.tif"\nmax_distance = 5.0\ndistance_unit = "physical"\n')
    return tmp_path


def test_track_cli_writes_every_export_and_scores(project, capsys):
    gt = write_ground_truth(project / "GT", division_video())
    assert main(["track", str(project / "track.config"), "--ground-truth", str(gt)]) == 0
    out = capsys.readouterr().out
    assert "Tracked 15 objects into 2 tracks (1 divisions)" in out
    assert "SEG 1.000, DET 1.000, TRA 1.000, division_f1 1.000" in out
    folder = project / "tracks" / "cells_tracks"
    assert sorted(p.name for p in folder.iterdir()) == [
        "cells_RES", "cells_labels.tif", "cells_segments.csv", "cells_spots.csv",
        "cells_summary.json", "cells_trackmate.xml", "cells_tracks.csv"]
    summary = json.loads((folder / "cells_summary.json").read_text())
    assert summary["unit"] == "um" and summary["num_divisions"] == 1
    assert summary["scores"]["TRA"] == 1.0 and summary["tracking"]["max_distance"] == 5.0
    spots = (folder / "cells_spots.csv").read_text().splitlines()
    assert len(spots) == 16 and spots[0].startswith("spot_id,frame,label,ctc_label,track_id")
    # a second run never replaces the first
    assert main(["track", str(project / "track.config")]) == 0
    assert (project / "tracks" / "cells_tracks_2" / "cells_trackmate.xml").is_file()
    assert not [p for p in (project / "tracks").iterdir() if p.name.startswith(".")]


def test_image_video_adds_intensity_and_two_channel_stack(project):
    image = (division_video() > 0).astype(np.uint16) * 50 + 10
    _video(project / "raw.tif", image)
    assert main(["track", str(project / "track.config"), "--image", str(project / "raw.tif"),
                 "--output", str(project / "out")]) == 0
    folder = project / "out" / "cells_tracks"
    with tifffile.TiffFile(folder / "cells_raw_labels.tif") as tif:
        assert tif.series[0].axes == "TCYX" and tif.series[0].shape == (6, 2, 40, 40)
    assert "MEAN_INTENSITY_CH1=\"60\"" in (folder / "cells_trackmate.xml").read_text()


def test_uncalibrated_video_says_pixels_once(tmp_path, caplog):
    _video(tmp_path / "plain.tif", division_video(), calibrated=False)
    with caplog.at_level(logging.WARNING):
        assert main(["track", str(_config(tmp_path)), "--labels", str(tmp_path / "plain.tif")]) == 0
    assert caplog.text.count("no pixel-size calibration") == 1


def _config(folder, text="[tracking]\n"):
    path = folder / "t.config"
    path.write_text(text)
    return path


@pytest.mark.parametrize("case", ["float", "nothing", "sizes"])
def test_bad_input_is_one_message_and_writes_nothing(tmp_path, capsys, case):
    if case == "float":
        video = division_video().astype(np.float32)
        video[1, 3, 3] = 0.5
        _video(tmp_path / "v.tif", video)
        args, expected = ["--labels", str(tmp_path / "v.tif")], "non-integer values"
    elif case == "nothing":
        args, expected = [], "Nothing to track"
    else:
        _video(tmp_path / "v.tif", division_video())
        _video(tmp_path / "raw.tif", np.zeros((5, 40, 40), np.uint16))
        args = ["--labels", str(tmp_path / "v.tif"), "--image", str(tmp_path / "raw.tif")]
        expected = "differ in frames or size"
    assert main(["track", str(_config(tmp_path)), "--output", str(tmp_path / "out"), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("dl-suite: error:") and expected in err and "Traceback" not in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_failure_during_export_leaves_no_final_folder(project, monkeypatch):
    import dl_suite.tracking.export as export

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(export, "write_ctc_results", broken)
    with pytest.raises(OSError, match="disk full"):
        main(["track", str(project / "track.config")])
    assert list((project / "tracks").iterdir()) == []
