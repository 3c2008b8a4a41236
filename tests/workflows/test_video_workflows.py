"""infer and evaluate on videos with a ConvLSTM run (a hand-made run folder, untrained model)."""

import keras
import numpy as np
import pytest
import tifffile

from dl_suite.config import load_config
from dl_suite.io import read_calibration
from dl_suite.workflows import runs

CONFIG = """\
[model]
model = "unet_lstm"
image_channels = 1
num_classes = 1
time_windows = 3
base_filters = 4
num_layers = 3
image_height = 32
image_width = 32

[train]
model_dir = "./models"

[generator]
time_padding = "repeat"

[eval]
image_datapath = "./videos/images"
mask_datapath = "./videos/masks"
optimise_threshold = False
num_overlays = 0

[infer]
images_dir = "./videos/images"
output_dir = "./predictions"
"""


def _moving_disk(num_frames, size, seed):
    rng = np.random.default_rng(seed)
    y, x = np.ogrid[:size, :size]
    masks = np.stack([(y - 12 - t) ** 2 + (x - 14) ** 2 <= 36 for t in range(num_frames)])
    images = (masks * 150 + rng.integers(0, 60, masks.shape)).astype(np.uint8)
    return images, masks.astype(np.uint8)


@pytest.fixture
def video_run(tmp_path):
    from dl_suite.models import build_model

    for name, frames, seed in (("first", 7, 0), ("second", 5, 1)):
        images, masks = _moving_disk(frames, 36, seed)
        for kind, data in (("images", images), ("masks", masks)):
            (tmp_path / "videos" / kind).mkdir(parents=True, exist_ok=True)
            tifffile.imwrite(tmp_path / "videos" / kind / f"{name}.tif", data, imagej=True,
                             resolution=(4.0, 4.0),
                             metadata={"axes": "TYX", "unit": "um", "finterval": 3.0})
    (tmp_path / "project.config").write_text(CONFIG)
    cfg = load_config(tmp_path / "project.config")
    run_dir = runs.create_run(cfg["train"]["model_dir"])
    (run_dir / runs.CONFIG_FILE).write_text(cfg.to_json())
    section = dict(cfg["model"])
    name, num_classes = section.pop("name"), section.pop("num_classes")
    keras.utils.set_random_seed(0)  # one fixed untrained model: comparisons are repeatable
    model = build_model(name, (32, 32, 1), num_classes, **section)
    model.save(run_dir / runs.BEST_MODEL)
    return cfg, tmp_path


def test_infer_and_evaluate_a_video_with_a_convlstm_run(video_run):
    from dl_suite.workflows.evaluate import evaluate
    from dl_suite.workflows.infer import infer

    cfg, root = video_run
    result = infer(cfg)
    assert result["done"] == 2 and result["failed"] == 0
    for name, frames in (("first", 7), ("second", 5)):
        for suffix in ("_prob.tif", "_mask.tif", "_labels.tif"):
            path = root / "predictions" / f"{name}{suffix}"
            with tifffile.TiffFile(path) as tif:
                assert tif.series[0].axes == "TYX" and tif.series[0].shape == (frames, 36, 36)
            calibration = read_calibration(path)
            assert calibration.pixel_size == pytest.approx(0.25)
            assert calibration.frame_interval == pytest.approx(3.0)
    report = (root / "predictions" / "inference_report.json").read_text()
    assert '"seconds_per_frame"' in report and '"time_windows": 3' in report

    scores = evaluate(cfg)
    rows, summary = scores["rows"], scores["summary"]
    assert [(r["video"], r["frame"]) for r in rows] == (
        [("first", t) for t in range(7)] + [("second", t) for t in range(5)])
    assert summary["num_videos"] == 2 and summary["videos"]["second"]["num_frames"] == 5
    first = [r["dice"] for r in rows if r["video"] == "first"]
    assert summary["videos"]["first"]["mean"]["dice"] == pytest.approx(np.mean(first), abs=1e-9)
    assert (scores["output_dir"] / "evaluation.csv").read_text().startswith("image,video,frame,")


def test_evaluate_scores_the_masks_infer_writes_with_temporal_options(video_run):
    """time_sigma and min_duration act in infer's video path; evaluate applies the same rule."""
    from dl_suite.workflows.evaluate import evaluate
    from dl_suite.workflows.infer import infer

    _, root = video_run
    config = root / "project.config"
    config.write_text(CONFIG + '\n[segmentation]\nthreshold_method = "otsu"\ntime_sigma = 1.0\n'
                      "min_duration = 3\n")
    cfg = load_config(config)
    assert infer(cfg)["done"] == 2
    rows = evaluate(cfg)["rows"]
    for row in rows:
        mask = tifffile.imread(root / "predictions" / f"{row['video']}_mask.tif")[row["frame"]] > 0
        true = tifffile.imread(root / "videos" / "masks" / f"{row['video']}.tif")[row["frame"]] > 0
        total = mask.sum() + true.sum()
        dice = 1.0 if total == 0 else 2 * (mask & true).sum() / total
        assert row["dice"] == pytest.approx(dice, abs=1e-12)


def test_evaluate_scores_a_video_around_its_ignore_stack(video_run):
    """An ignore mask of a video is a stack, one frame per frame: each frame's scores leave its
    pixels out (Dice by hand from infer's masks), a stack of the wrong length is an error."""
    from dl_suite.errors import DataError
    from dl_suite.workflows.evaluate import evaluate
    from dl_suite.workflows.infer import infer

    _, root = video_run
    ignore = np.zeros((7, 36, 36), np.uint8)
    ignore[:3, :14] = 255  # frames 0-2 of "first": the top 14 rows, through the disk
    (root / "videos" / "ignore").mkdir()
    tifffile.imwrite(root / "videos" / "ignore" / "first.tif", ignore, imagej=True,
                     metadata={"axes": "TYX"})
    config = root / "project.config"
    config.write_text(CONFIG.replace("[infer]", 'ignore_datapath = "./videos/ignore"\n\n[infer]')
                      + '\n[segmentation]\nthreshold_method = "otsu"\n')
    cfg = load_config(config)
    assert infer(cfg)["done"] == 2
    scores = evaluate(cfg)
    for row in scores["rows"]:
        frame = row["frame"]
        scored = ~((ignore[frame] > 0) if row["video"] == "first" else np.zeros((36, 36), bool))
        mask = tifffile.imread(root / "predictions" / f"{row['video']}_mask.tif")[frame] > 0
        true = tifffile.imread(root / "videos" / "masks" / f"{row['video']}.tif")[frame] > 0
        mask, true = mask & scored, true & scored
        total = mask.sum() + true.sum()
        assert row["dice"] == pytest.approx(1.0 if total == 0 else 2 * (mask & true).sum() / total,
                                            abs=1e-12)
        assert row["ignored_px"] == (14 * 36 if row["video"] == "first" and frame < 3 else 0)
    assert scores["summary"]["ignore"]["ignored_px"] == 3 * 14 * 36
    # the disk's top reaches into the ignored rows: scored on every pixel, frame 0 differs
    every = scores["summary"]["all_pixels"]
    assert every["mean"]["dice"] != pytest.approx(scores["summary"]["mean"]["dice"], abs=1e-9)
    tifffile.imwrite(root / "videos" / "ignore" / "first.tif", ignore[:6], imagej=True,
                     metadata={"axes": "TYX"})
    with pytest.raises(DataError, match="eval.ignore_datapath: the ignore mask .* with 6 frame"):
        evaluate(cfg)


FRAMES_CONFIG = CONFIG.replace('"./videos/images"', '"./frames/inputs"', 2).replace(
    '"./videos/masks"', '"./frames/labels"')


@pytest.fixture
def frames_run(video_run):
    """The JSON dialect's flat folders of 2-D frames: two videos (4 and 3 frames) + the CSV."""
    _, root = video_run
    lines, number = ["Video;Frame"], 0
    for name, frames, seed in (("cellA", 4, 2), ("cellB", 3, 3)):
        images, masks = _moving_disk(frames, 32, seed)
        for image, mask in zip(images, masks):
            for kind, stem, data in (("inputs", "raw", image), ("labels", "instance_ids", mask)):
                (root / "frames" / kind).mkdir(parents=True, exist_ok=True)
                tifffile.imwrite(root / "frames" / kind / f"{stem}_{number:03d}.tif", data)
            lines.append(f"{name};raw_{number:03d}.tif")
            number += 1
    (root / "frames" / "videos2im_relation.csv").write_text("\n".join(lines) + "\n")
    (root / "project.config").write_text(FRAMES_CONFIG)
    return load_config(root / "project.config"), root


def test_evaluate_groups_flat_frames_into_videos_by_the_csv(frames_run):
    from dl_suite.workflows.evaluate import evaluate

    cfg, _ = frames_run
    scores = evaluate(cfg)
    assert [(r["video"], r["frame"]) for r in scores["rows"]] == (
        [("cellA", t) for t in range(4)] + [("cellB", t) for t in range(3)])
    assert scores["summary"]["num_videos"] == 2
    assert scores["summary"]["videos"]["cellB"]["num_frames"] == 3


def test_infer_predicts_flat_frames_with_the_windows_of_their_video(frames_run):
    """Frame t of a video is predicted from the window of its video's frames (CSV order), and
    written under the frame file's own name; a 1-frame video would give another result."""
    from dl_suite.data.preprocess import preprocess_image
    from dl_suite.data.windows import window_indices
    from dl_suite.workflows.infer import infer
    from dl_suite.workflows.predict import load_model

    _, root = frames_run
    (root / "project.config").write_text(FRAMES_CONFIG + "\n[tiledinfer]\nhalo = 0\n")
    cfg = load_config(root / "project.config")  # one 32x32 tile: the model sees whole frames
    result = infer(cfg)
    assert result["done"] == 7 and result["failed"] == 0
    run_dir = runs.resolve_run(cfg, None)
    model = load_model(runs.model_file(run_dir), run_dir=run_dir)
    frames = np.stack([preprocess_image(tifffile.imread(root / "frames" / "inputs" /
                                                        f"raw_{n:03d}.tif"), cfg, "frame")
                       for n in range(4, 7)])  # video cellB: raw_004 .. raw_006
    for t in range(3):
        window = frames[window_indices(t, 3, 3, "repeat")]
        expected = np.asarray(model(window[None]))[0, ..., 0]
        written = tifffile.imread(root / "predictions" / f"raw_{4 + t:03d}_prob.tif")
        assert written.shape == (32, 32)
        np.testing.assert_allclose(written, expected, atol=1e-5)
        for suffix in ("_mask.tif", "_labels.tif", "_overlay.png"):
            assert (root / "predictions" / f"raw_{4 + t:03d}{suffix}").is_file()
    alone = np.asarray(model(frames[[1, 1, 1]][None]))[0, ..., 0]  # frame 1 as a 1-frame video
    # 10x the tolerance of the equality above: the old one-frame-video result is told apart
    assert np.abs(tifffile.imread(root / "predictions" / "raw_005_prob.tif") - alone).max() > 1e-4
