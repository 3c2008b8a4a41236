"""`dl-suite demo --video`: synthetic time-lapse -> train -> segment -> track -> export -> score.

The model trains on the frames of one synthetic video and is scored on another one made with a
different seed (never seen in training), with CTC ground truth written by dl-suite itself.
"""

import logging
import time
from pathlib import Path

import numpy as np

from dl_suite.config import load_config
from dl_suite.io import write_image, write_text
from dl_suite.io.ctc_results import write_ctc_results
from dl_suite.io.imagej import write_imagej_tiff

logger = logging.getLogger(__name__)

VIDEO_CONFIG = """\
; dl-suite video demo: a small U-Net segments synthetic nuclei frame by frame, then tracking.
[model]
model          = "unet"
image_height   = {patch}
image_width    = {patch}
image_channels = 1
num_classes    = 1
base_filters   = 8
num_layers     = 3
learning_rate  = 0.003
loss           = "bce_dice"
metrics        = ["dice_coef"]

[train]
epochs          = {epochs}
batch_size      = 4
steps_per_epoch = {steps}
patience        = 8
model_dir       = "./models"
image_datapath  = "./data/train/images"
mask_datapath   = "./data/train/masks"
num_infer_images = 2

[generator]
patch_size = [{patch}, {patch}]

[image]
normalization = "percentile"

[segmentation]
instance_method = "watershed"
min_distance    = 4
min_size        = 8

[tracking]
method       = "lap"
max_distance = 8.0
max_gap      = 1
divisions    = True
image        = "./data/test/movie.tif"
ground_truth = "./data/test/01_GT"
output_dir   = "./tracks"
"""


def _timelapse(**kwargs):
    try:
        from dl_suite.data.synthetic_timelapse import synthetic_timelapse
    except ImportError as exc:  # the generator comes with the video-training work
        raise RuntimeError("dl_suite.data.synthetic_timelapse is missing from this installation; "
                           "the video demo needs it.") from exc
    return synthetic_timelapse(**kwargs)


def separate_touching(labels):
    """Labels with a background line where two nuclei touch (on the higher label's side).

    A binary-mask U-Net cannot split touching nuclei otherwise: their masks form one blob.
    """
    from scipy import ndimage

    labels = np.asarray(labels)
    nonzero = np.where(labels > 0, labels, np.iinfo(labels.dtype).max)
    touching = (labels > 0) & (ndimage.minimum_filter(nonzero, size=3) < labels)
    return np.where(touching, 0, labels).astype(labels.dtype)


def make_video_data(root, *, frames=30, size=96, cells=10, snr=5.0, growth=0.02, seed=0):
    """Writes training frames (uint16 TIFF images + labels, touching nuclei separated) from one
    video, and a test video (seed + 1) as an ImageJ TYX TIFF with its CTC ground truth
    (`01_GT/TRA`, `01_GT/SEG`, untouched)."""
    root = Path(root)
    # growth 0.02 (above the generator's default) gives a few divisions in 30 frames while
    # nuclei cover at most about a third of the field
    train = _timelapse(frames=frames, size=size, cells=cells, snr=snr, growth=growth, seed=seed)
    for t in range(frames):
        write_image(root / "train" / "images" / f"frame_{t:03d}.tif", train.frames[t])
        write_image(root / "train" / "masks" / f"frame_{t:03d}.tif", separate_touching(train.labels[t]))
    test = _timelapse(frames=frames, size=size, cells=cells, snr=snr, growth=growth, seed=seed + 1)
    write_imagej_tiff(root / "test" / "movie.tif", test.frames, "TYX")
    gt = root / "test" / "01_GT"
    write_ctc_results(gt / "TRA", test.labels, test.tracks, track_file="man_track.txt",
                      prefix="man_track")
    write_ctc_results(gt / "SEG", test.labels, [], track_file=None, prefix="man_seg")
    return root


def run_video_demo(output_dir, *, epochs=25, steps=10, frames=30, size=96, patch=64, overrides=()):
    """Runs the video demo in `output_dir`.

    Returns:
        dict: config, run_dir, tracks folder, scores, num_tracks, num_divisions, times (s).
    """
    from dl_suite.workflows.track import track
    from dl_suite.workflows.train import train

    output_dir = Path(output_dir)
    times = {}
    start = time.perf_counter()
    if not (output_dir / "data" / "test" / "01_GT").is_dir():
        make_video_data(output_dir / "data", frames=frames, size=size)
    times["data_s"] = time.perf_counter() - start
    config_path = output_dir / "demo_video.config"
    if not config_path.is_file():
        write_text(config_path, VIDEO_CONFIG.format(patch=patch, epochs=epochs, steps=steps))
    cfg = load_config(config_path, overrides)
    start = time.perf_counter()
    run_dir = train(cfg)
    times["train_s"] = time.perf_counter() - start
    report = track(cfg, run=run_dir)
    times.update(report["times"])
    return {"config": config_path, "run_dir": run_dir, "folder": report["folder"],
            "scores": report["scores"], "num_tracks": report["num_tracks"],
            "num_divisions": report["num_divisions"], "times": times}
