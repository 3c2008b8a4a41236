"""`track` without a label video segments the raw video first with the infer workflow."""

import numpy as np
import pytest
import tifffile

from dl_suite.config import load_config
from dl_suite.workflows.train import train
from dl_suite.workflows.track import track
from tests.workflows.conftest import CONFIG, TINY
from dl_suite.workflows.demo import make_demo_data


@pytest.mark.slow
def test_segments_then_tracks(tmp_path):
    make_demo_data(tmp_path / "data", num_train=4, num_test=1, size=32)
    (tmp_path / "project.config").write_text(CONFIG)
    # A threshold of 0 makes every pixel foreground whatever the (1-step) model learnt:
    # one object filling each frame, hence exactly one track over all frames.
    overrides = TINY + ["segmentation.threshold_method='fixed'", "infer.threshold=0.0"]
    cfg = load_config(tmp_path / "project.config", overrides)
    run_dir = train(cfg)
    video = np.random.default_rng(0).integers(0, 255, (4, 32, 32)).astype(np.uint8)
    tifffile.imwrite(tmp_path / "movie.tif", video, imagej=True, metadata={"axes": "TYX"})
    report = track(cfg, image_path=str(tmp_path / "movie.tif"), output_dir=tmp_path / "out", run=run_dir)
    labels = tifffile.imread(tmp_path / "out" / "movie_segmentation" / "movie_labels.tif")
    assert labels.shape == (4, 32, 32) and (labels == 1).all()
    assert (report["num_spots"], report["num_tracks"], report["num_divisions"]) == (4, 1, 0)
    assert report["times"]["segment_s"] > 0
    assert (report["folder"] / "movie_raw_labels.tif").is_file()
