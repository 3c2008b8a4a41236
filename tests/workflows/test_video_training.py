"""ConvLSTM models train from configs: a synthetic CTC folder, and the legacy LSTM JSON config."""

import csv
import json

import numpy as np
import pytest

from dl_suite.config import load_config
from dl_suite.data.synthetic_timelapse import synthetic_timelapse
from dl_suite.io.ctc import write_ctc_dataset
from dl_suite.workflows.train import train

CONFIG = """\
[model]
model = "unet_lstm"
image_channels = 1
num_classes = 1
loss = "bce_dice"
metrics = ["dice_coef"]
time_windows = 3
base_filters = 4
num_layers = 3
image_height = 32
image_width = 32
output_all_frames = {all_frames}

[generator]
time_padding = "repeat"

[train]
model_dir = "./models"
datapath = "./ctc"
epochs = 1
steps_per_epoch = 1
batch_size = 2
"""


def _history(run_dir):
    with open(run_dir / "history.csv", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("all_frames", [False, True])
def test_convlstm_trains_an_epoch_on_a_synthetic_timelapse(tmp_path, all_frames):
    data = synthetic_timelapse(frames=6, size=32, cells=3, seed=4)
    write_ctc_dataset(tmp_path / "ctc", data.frames, seg=data.labels, seg_frames=[2, 3, 4, 5])
    (tmp_path / "video.config").write_text(CONFIG.format(all_frames=all_frames))
    run_dir = train(load_config(tmp_path / "video.config"))
    rows = _history(run_dir)
    assert len(rows) == 1 and np.isfinite(float(rows[0]["loss"]))
    saved = json.loads((run_dir / "config.json").read_text())
    assert saved["generator"]["time_padding"] == "repeat"  # travels to inference
    assert (run_dir / "model.keras").is_file()


@pytest.mark.slow
def test_legacy_lstm_json_config_trains_one_step(tmp_path, shared_dir):
    from tests.workflows.test_video_data import _legacy_frames

    _legacy_frames(tmp_path / "train", videos=2, frames=3)
    config = json.loads((shared_dir / "legacy_configs/json/config_mobilenet_lstm_1.json").read_text())
    del config["VALPATH"]  # one step, no validation pass (keeps the test short)
    config.update(OUTPUTPATH=str(tmp_path / "out"), TRAINPATH=str(tmp_path / "train"),
                  TESTPATH=str(tmp_path / "train"), train_pretrained_weights="None",
                  datagen_dim_size=[32, 32], train_max_epochs=1, model_n_filters=4,
                  model_time_windows=3)
    (tmp_path / "config.json").write_text(json.dumps(config))
    cfg = load_config(tmp_path / "config.json", ["train.steps_per_epoch=1"])
    assert cfg["model"]["name"] == "mobilenet_mobileunet_lstm" and cfg["mask"]["binarize"]
    run_dir = train(cfg)
    rows = _history(run_dir)
    assert len(rows) == 1 and np.isfinite(float(rows[0]["loss"]))


def test_losses_and_metrics_score_a_video_window_as_one_volume():
    """(B, T, H, W, 1) targets: dice over T*H*W per window, like the same frames side by side."""
    from dl_suite.losses import get_loss
    from dl_suite.metrics import get_metrics

    rng = np.random.default_rng(0)
    y_true = (rng.random((2, 3, 8, 8, 1)) > 0.5).astype("float32")
    y_pred = rng.random((2, 3, 8, 8, 1)).astype("float32")
    flat = lambda a: a.reshape(2, 3 * 8, 8, 1)  # noqa: E731 frames stacked along H
    loss = get_loss("bce_dice")
    assert float(loss(y_true, y_pred)) == pytest.approx(float(loss(flat(y_true), flat(y_pred))), rel=1e-5)
    metric = get_metrics(["dice_coef"], num_classes=1)[0]
    metric.update_state(y_true, y_pred)
    video = float(metric.result())
    metric.reset_state()
    metric.update_state(flat(y_true), flat(y_pred))
    assert video == pytest.approx(float(metric.result()), rel=1e-6)


def test_ignore_masks_are_refused_for_time_window_models(tmp_path):
    from dl_suite.errors import DataError
    from dl_suite.workflows.train import _training_inputs

    (tmp_path / "video.config").write_text(CONFIG.format(all_frames=False))
    cfg = load_config(tmp_path / "video.config", [f"train.ignore_datapath={tmp_path}"])
    with pytest.raises(DataError, match="work for still-image models; 'unet_lstm'"):
        _training_inputs(cfg, tmp_path / "run")
