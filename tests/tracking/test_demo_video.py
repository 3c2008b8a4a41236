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
            "--set", "model.base_filters=4", "--set", "generator.patch_size=[32, 32]"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "Scores on an unseen synthetic video: SEG" in out and "TRA" in out
    folder = tmp_path / "tracks" / "movie_tracks"
    assert (folder / "movie_trackmate.xml").is_file() and (folder / "movie_RES" / "res_track.txt").is_file()


def test_touching_nuclei_get_a_background_line():
    import numpy as np

    from dl_suite.workflows.demo_video import separate_touching

    labels = np.zeros((5, 7), np.uint16)
    labels[1:4, 0:3], labels[1:4, 3:6] = 1, 2  # touching along column 2|3
    labels[0, 6] = 3  # touches label 2 only diagonally, at (1, 5)
    out = separate_touching(labels)
    expected = labels.copy()
    expected[1:4, 3] = 0  # label 2's first column
    expected[0, 6] = 0  # label 3 > 2: its pixel goes
    assert np.array_equal(out, expected)
    assert out.dtype == labels.dtype
