"""Video sources of the time-window models: CTC folders, video TIFFs, frames + videos CSV."""

import json

import numpy as np
import tifffile

from dl_suite.config import load_config
from dl_suite.data.synthetic_timelapse import synthetic_timelapse
from dl_suite.io.ctc import write_ctc_dataset
from dl_suite.workflows.video_data import is_video_model, load_video_split

CONFIG = """\
[model]
model = "unet_lstm"
image_channels = 1
num_classes = 1
time_windows = 3

[train]
model_dir = "./models"
{data}
"""


def _config(tmp_path, data):
    path = tmp_path / "video.config"
    path.write_text(CONFIG.format(data=data))
    return load_config(path)


def test_video_models_are_recognised():
    assert is_video_model("unet_lstm") and is_video_model("mobilenet_mobileunet_lstm")
    assert not is_video_model("unet")


def test_ctc_folder_with_sparse_masks(tmp_path):
    data = synthetic_timelapse(frames=6, size=32, cells=3, seed=0)
    write_ctc_dataset(tmp_path / "ctc", data.frames, seg=data.labels, seg_frames=[2, 5])
    videos = load_video_split(_config(tmp_path, 'datapath = "./ctc"'), "train")
    assert videos.names == ["ctc/01"] and videos.videos[0].shape == (6, 32, 32, 1)
    assert [m is not None for m in videos.masks[0]] == [False, False, True, False, False, True]
    np.testing.assert_array_equal(videos.masks[0][5], data.labels[5])


def test_video_tiffs_with_label_videos(tmp_path):
    data = synthetic_timelapse(frames=5, size=32, cells=3, seed=1)
    for folder, array in (("images", data.frames), ("masks", data.labels)):
        (tmp_path / "d" / folder).mkdir(parents=True)
        tifffile.imwrite(tmp_path / "d" / folder / "cellsA.tif", array, imagej=True,
                         metadata={"axes": "TYX"})
    videos = load_video_split(_config(tmp_path, 'datapath = "./d"'), "train")
    assert videos.names == ["cellsA"] and videos.videos[0].shape == (5, 32, 32, 1)
    np.testing.assert_array_equal(np.stack(videos.masks[0]), data.labels)


def _legacy_frames(root, seed=0, videos=2, frames=4, size=32):
    """The JSON dialect's layout: inputs/raw_NNN.tif, labels/instance_ids_NNN.tif, CSV."""
    (root / "inputs").mkdir(parents=True)
    (root / "labels").mkdir()
    rows, n = ["Video; Frame"], 1
    for v in range(videos):
        data = synthetic_timelapse(frames=frames, size=size, cells=3, seed=seed + v)
        for t in range(frames):
            tifffile.imwrite(root / "inputs" / f"raw_{n:03d}.tif", data.frames[t])
            tifffile.imwrite(root / "labels" / f"instance_ids_{n:03d}.tif", data.labels[t].astype(np.uint8))
            rows.append(f"video_{v};raw_{n:03d}.tif")
            n += 1
    # the CSV order, not the name order, gives the frame order: list video_1 first
    body = rows[1 + frames:] + rows[1: 1 + frames]
    (root / "videos2im_relation.csv").write_text("\n".join([rows[0]] + body) + "\n")


def test_flat_frames_grouped_by_the_videos_csv(tmp_path):
    _legacy_frames(tmp_path / "train")
    videos = load_video_split(_config(tmp_path, 'datapath = "./train"'), "train")
    assert videos.names == ["video_1", "video_0"]
    assert [v.shape[0] for v in videos.videos] == [4, 4]
    expected = synthetic_timelapse(frames=4, size=32, cells=3, seed=1).labels
    np.testing.assert_array_equal(np.stack(videos.masks[0]), expected)  # instance ids kept (1 class)


def test_legacy_segmentation_labels_with_two_categories_are_binarised(tmp_path):
    _legacy_frames(tmp_path / "train")
    config = {"cnn_name": "mobilenet_mobileunet_lstm", "TRAINPATH": str(tmp_path / "train"),
              "OUTPUTPATH": str(tmp_path / "out"), "model_time_windows": 3,
              "datagen_type": "segmentation", "model_category_weights": [1, 10]}
    (tmp_path / "c.json").write_text(json.dumps(config))
    cfg = load_config(tmp_path / "c.json")
    assert cfg["model"]["num_classes"] == 2 and cfg["mask"]["binarize"] is True
    videos = load_video_split(cfg, "train")
    labels = synthetic_timelapse(frames=4, size=32, cells=3, seed=1).labels
    assert labels.max() > 1  # the files hold instance ids ...
    np.testing.assert_array_equal(np.stack(videos.masks[0]), labels > 0)  # ... read as 0/1
