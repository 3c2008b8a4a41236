"""`dl-suite demo --video` end to end on a tiny synthetic time-lapse (needs the generator)."""

import pytest

from dl_suite.cli.main import main


@pytest.mark.slow
def test_demo_video_runs_every_step(tmp_path, capsys):
    pytest.importorskip("dl_suite.data.synthetic_timelapse")
    from dl_suite.workflows.demo_video import make_video_data

    make_video_data(tmp_path / "data", frames=6, size=32, cells=3)
    args = ["demo", "--video", "--output", str(tmp_path), "--epochs", "1", "--steps", "1",
            "--set", "model.image_height=32", "--set", "model.image_width=32",
            "--set", "model.base_filters=4"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "Scores on an unseen synthetic video: SEG" in out and "TRA" in out
    folder = tmp_path / "tracks" / "movie_tracks"
    assert (folder / "movie_trackmate.xml").is_file() and (folder / "movie_RES" / "res_track.txt").is_file()
