"""RGB images give one answer through train, evaluate and infer (one image contract)."""

import numpy as np

from dl_suite.config import load_config
from dl_suite.io import read_image, read_image_data, write_image
from dl_suite.workflows.data import load_samples, split_pairs
from dl_suite.workflows.evaluate import RunPredictor
from dl_suite.workflows.infer import infer
from dl_suite.workflows.train import train
from tests.workflows.conftest import TINY


def _to_rgb(folder):
    """Rewrites the demo's grey PNGs as RGB PNGs whose channels differ."""
    for path in sorted(folder.glob("*.png")):
        grey = read_image(path).astype(np.int32)
        rgb = np.stack([grey, grey // 2, 255 - grey], axis=-1).astype(np.uint8)
        write_image(path, rgb)


def test_rgb_png_train_evaluate_infer_agree(tiny_project):
    for split in ("train", "test"):
        _to_rgb(tiny_project / "data" / split / "images")
    cfg = load_config(tiny_project / "project.config", TINY)
    pairs = split_pairs(cfg, "eval")
    assert read_image_data(pairs[0][0]).array.shape == (1, 48, 48, 3)
    names, images, _ = load_samples(pairs, cfg)
    assert [im.shape for im in images] == [(48, 48, 1)] * 2  # one RGB image -> one grey sample

    run_dir = train(cfg)
    predictor = RunPredictor(cfg, run_dir)
    names, images = predictor.samples(pairs)[:2]
    evaluated = predictor.probabilities(images)

    report = infer(cfg, run=run_dir)
    assert report["done"] == 2 and report["failed"] == 0
    for (image_path, _), prob_eval in zip(pairs, evaluated):
        written = read_image(report["output_dir"] / f"{image_path.stem}_prob.tif")
        # An (H, W, 3) image into a 1-channel model: one (H, W) map, not H frames of W x 3.
        assert written.shape == (48, 48)
        np.testing.assert_allclose(written, prob_eval[..., 0], atol=1e-5)


def _sigmoid(batch):
    return 1 / (1 + np.exp(-(batch - 100.0) / 10.0))


def test_infer_keeps_frames_and_calibration_and_averages_rgb(tmp_path):
    import tifffile

    from dl_suite.inference.batch import InferenceOptions, infer_paths

    rng = np.random.default_rng(3)
    video = rng.integers(0, 255, (4, 24, 30)).astype(np.uint8)
    tifffile.imwrite(tmp_path / "v.tif", video, imagej=True, resolution=(2.0, 2.0),
                     metadata={"axes": "TYX", "unit": "um", "finterval": 2.5})
    rgb = rng.integers(0, 255, (3, 24, 30, 3)).astype(np.uint8)
    # compressed: read frame by frame (TiffFrames), not memory-mapped
    tifffile.imwrite(tmp_path / "c.tif", rgb, photometric="rgb", compression="zlib")
    report = infer_paths([tmp_path / "v.tif", tmp_path / "c.tif"], tmp_path / "out", _sigmoid,
                         InferenceOptions(progress=False, outputs=("probability",)))
    assert not report.failed
    prob = read_image_data(tmp_path / "out" / "v_prob.tif")
    assert prob.array.shape == (4, 24, 30, 1) and prob.axes == "TYX"
    assert prob.calibration.pixel_size == 0.5 and prob.calibration.frame_interval == 2.5
    np.testing.assert_allclose(prob.array[..., 0], _sigmoid(video.astype(np.float32)), atol=1e-6)
    colour = read_image_data(tmp_path / "out" / "c_prob.tif").array
    expected = _sigmoid(rgb.astype(np.float32).mean(axis=-1))  # the channel rule: mean of RGB
    assert colour.shape == (3, 24, 30, 1)
    np.testing.assert_allclose(colour[..., 0], expected, atol=1e-5)
