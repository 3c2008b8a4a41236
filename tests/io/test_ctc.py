"""CTC data sets: write, read back, `man_track.txt` format, and the synth CLI."""

import shutil

import numpy as np
import pytest

from dl_suite.data.synthetic_timelapse import synthetic_timelapse
from dl_suite.errors import DataError
from dl_suite.io.ctc import (format_tracks, is_ctc_dataset, read_ctc_sequence, read_tracks,
                             write_ctc_dataset)


def test_round_trip_with_sparse_seg(tmp_path):
    data = synthetic_timelapse(frames=6, size=32, cells=3, seed=0)
    write_ctc_dataset(tmp_path, data.frames, seg=data.labels, tra=data.labels,
                      tracks=data.tracks, seg_frames=[1, 4])
    assert sorted(p.name for p in (tmp_path / "01_GT" / "SEG").iterdir()) == [
        "man_seg001.tif", "man_seg004.tif"]
    back = read_ctc_sequence(tmp_path, with_tra=True)
    np.testing.assert_array_equal(back["frames"], data.frames)
    assert sorted(back["seg"]) == [1, 4] and back["seg_source"] == "GT"
    np.testing.assert_array_equal(back["seg"][4], data.labels[4])
    np.testing.assert_array_equal(back["tra"], data.labels)
    np.testing.assert_array_equal(back["tracks"], data.tracks)
    assert is_ctc_dataset(tmp_path) and not is_ctc_dataset(tmp_path / "01_GT")


def test_track_file_format(tmp_path):
    assert format_tracks([[1, 0, 4, 0], [2, 5, 9, 1]]) == "1 0 4 0\n2 5 9 1\n"
    (tmp_path / "t.txt").write_text("1 0 4 0\n2 5 x 1\n")
    with pytest.raises(DataError, match="line 2"):
        read_tracks(tmp_path / "t.txt")


def test_silver_truth_is_used_when_gold_is_absent(tmp_path):
    frames = np.zeros((3, 8, 8), np.uint16)
    write_ctc_dataset(tmp_path, frames, seg=np.ones((3, 8, 8), np.uint16), seg_frames=[2])
    shutil.move(tmp_path / "01_GT", tmp_path / "01_ST")
    back = read_ctc_sequence(tmp_path)
    assert back["seg_source"] == "ST" and sorted(back["seg"]) == [2]


def test_gt_validates_with_py_ctcmetrics(tmp_path):
    """Our GT fed in as a result: Valid = 1 and SEG = DET = TRA = 1 (INTEROP.md 4.5)."""
    ctc_metrics = pytest.importorskip("ctc_metrics")
    data = synthetic_timelapse(frames=12, size=48, cells=4, seed=1)
    write_ctc_dataset(tmp_path, data.frames, seg=data.labels, tra=data.labels, tracks=data.tracks)
    res = tmp_path / "01_RES"
    res.mkdir()
    for t in range(12):
        shutil.copy(tmp_path / "01_GT" / "TRA" / f"man_track{t:03d}.tif", res / f"mask{t:03d}.tif")
    shutil.copy(tmp_path / "01_GT" / "TRA" / "man_track.txt", res / "res_track.txt")
    assert ctc_metrics.validate_sequence(str(res))["Valid"] == 1
    scores = ctc_metrics.evaluate_sequence(str(res), str(tmp_path / "01_GT"),
                                           metrics=["SEG", "DET", "TRA"], threads=1)
    assert scores["SEG"] == scores["DET"] == scores["TRA"] == 1.0


def test_synth_cli_writes_and_refuses_to_overwrite(tmp_path, capsys):
    from dl_suite.cli.main import main

    out = tmp_path / "video"
    assert main(["synth", "timelapse", str(out), "--frames", "4", "--size", "32", "--seed", "2"]) == 0
    back = read_ctc_sequence(out, with_tra=True)
    data = synthetic_timelapse(frames=4, size=32, seed=2)
    np.testing.assert_array_equal(back["frames"], data.frames)
    np.testing.assert_array_equal(back["tracks"], data.tracks)
    assert main(["synth", "timelapse", str(out)]) == 2
    assert "already holds" in capsys.readouterr().err
