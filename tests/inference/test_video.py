"""Video inference: sliding windows as in training, streamed, tiled, hyperstacks out."""

import weakref

import numpy as np
import pytest
import tifffile

from dl_suite.data.windows import window_indices
from dl_suite.inference.batch import InferenceOptions
from dl_suite.inference.postprocess import PostprocessOptions
from dl_suite.inference.temporal import TemporalOptions
from dl_suite.inference.tiling import iter_tiles
from dl_suite.inference.video import VideoSpec, iter_windows, predict_video
from dl_suite.inference.video_batch import infer_video_file
from dl_suite.io import read_calibration

TILING = dict(tile_size=32, halo=4, overlap=4, input_multiple=4, batch_size=3)


class LazyFrames:
    """A (T, H, W, C) video that makes each frame on access (value = frame index) and tracks
    how many frames it handed out are still alive."""

    def __init__(self, num_frames, height, width):
        self.shape = (num_frames, height, width, 1)
        self.alive = []
        self.reads = 0

    def __len__(self):
        return self.shape[0]

    def __getitem__(self, t):
        self.reads += 1
        frame = np.full(self.shape[1:], float(t), np.float32)
        self.alive.append(weakref.ref(frame))
        return frame

    def live(self):
        return sum(ref() is not None for ref in self.alive)


class WindowSpy:
    """Model stand-in (N, T, h, w, C) -> (N, h, w, T): returns the window's frame values, and
    records the frames of every window it sees and the live frames of the reader."""

    def __init__(self, frames=None):
        self.frames, self.calls, self.max_live, self.tiles_per_frame = frames, 0, 0, {}

    def __call__(self, batch):
        assert batch.ndim == 5 and batch.shape[1] == 3
        self.calls += 1
        if self.frames is not None:
            self.max_live = max(self.max_live, self.frames.live())
        for window in batch:
            last = int(round(float(window[-1, 0, 0, 0])))
            self.tiles_per_frame[last] = self.tiles_per_frame.get(last, 0) + 1
        return np.moveaxis(batch[..., 0], 1, -1)


@pytest.mark.parametrize("padding", ["mirror", "repeat"])
def test_every_frame_once_with_the_training_window(padding):
    frames = LazyFrames(30, 40, 44)
    spy = WindowSpy(frames)
    spec = VideoSpec(time_windows=3, frame_model=False, padding=padding)
    out, _ = predict_video(frames, spy, spec, progress=False, **TILING)
    assert out.shape == (30, 40, 44, 3)
    for t in range(30):
        expected = window_indices(t, 3, 30, padding)  # the function training uses
        np.testing.assert_array_equal(out[t], np.broadcast_to(expected, (40, 44, 3)))
    tiles = len(list(iter_tiles((40, 44), 32, 4, 4, 4)))
    assert tiles > 1 and spy.tiles_per_frame == {t: tiles for t in range(30)}
    # streamed: never more than one window of frames alive, each frame read a bounded number
    # of times (mirror padding re-reads the first frames once)
    assert spy.max_live <= 3 and frames.live() <= 3
    assert frames.reads <= 30 + 3


def test_iter_windows_holds_only_the_current_window():
    frames = LazyFrames(12, 4, 4)
    for t, window in iter_windows(frames, 4, "mirror"):
        assert frames.live() <= 4
        np.testing.assert_array_equal(window[:, 0, 0, 0], window_indices(t, 4, 12, "mirror"))


def test_frame_models_run_frame_by_frame():
    video = np.random.default_rng(0).random((5, 20, 24, 2)).astype(np.float32)
    seen = []

    def identity(batch):
        assert batch.ndim == 4 and batch.shape[-1] == 2
        seen.append(len(batch))
        return batch[..., :1] * 2.0

    out, _ = predict_video(video, identity, VideoSpec(), progress=False, **TILING)
    np.testing.assert_allclose(out, video[..., :1] * 2.0, atol=1e-6)


def _disk_video(path, num_frames, present, size=24):
    y, x = np.ogrid[:size, :size]
    disk = (y - 12) ** 2 + (x - 12) ** 2 <= 25
    video = np.zeros((num_frames, size, size), np.float32)
    for t in present:
        video[t][disk] = 0.9
    tifffile.imwrite(path, video, imagej=True, resolution=(1 / 0.25, 1 / 0.25),
                     metadata={"axes": "TYX", "unit": "um", "finterval": 5.0})
    return disk


def _identity_model(batch):
    return batch[..., :1]


@pytest.mark.parametrize("sigma, duration, filled, kept_blip", [
    (0.0, 0, False, True), (1.0, 0, True, False), (0.0, 2, False, False),
])
def test_video_file_temporal_postprocessing(tmp_path, sigma, duration, filled, kept_blip):
    # the disk is in frames 0-9 except 5 (a one-frame gap) and, alone, in frame 14 (a blip)
    disk = _disk_video(tmp_path / "gap.tif", 16, [t for t in range(10) if t != 5] + [14])
    fixed = PostprocessOptions(threshold_method="fixed", threshold=0.5)
    tiling = {k: v for k, v in TILING.items() if k != "batch_size"}
    options = InferenceOptions(postprocess=fixed, progress=False, **tiling)
    written, per_frame = infer_video_file(tmp_path / "gap.tif", tmp_path / "out", _identity_model,
                                          options, VideoSpec(), TemporalOptions(sigma, duration))
    masks = tifffile.imread(written["mask"])
    labels = tifffile.imread(written["labels"])
    assert masks.shape == labels.shape == (16, 24, 24) and per_frame > 0
    assert ((masks[5] == 255) == (disk if filled else False)).all()
    assert ((masks[14] == 255) == (disk if kept_blip else False)).all()
    assert (masks[[0, 4, 6, 9]][:, disk] == 255).all() and (masks[10:14] == 0).all()
    assert (labels[0][disk] == 1).all() and (labels[0][~disk] == 0).all()
    assert ((labels[14] > 0) == (masks[14] > 0)).all()
    np.testing.assert_allclose(tifffile.imread(written["probability"])[5], 0.0)  # raw, unsmoothed


def test_convlstm_predicts_a_30_frame_video_into_a_calibrated_hyperstack(tmp_path):
    from dl_suite.inference.predictors import keras_predictor
    from dl_suite.inference.video import video_spec
    from dl_suite.models import build_model

    model = build_model("unet_lstm", (3, 32, 32, 1), 1, base_filters=4, num_layers=3,
                        time_windows=3, dropout_rate=0.0)
    spec = video_spec(model, "repeat")
    assert (spec.time_windows, spec.frame_model, spec.fixed_size) == (3, False, (32, 32))
    rng = np.random.default_rng(0)
    video = (rng.random((30, 40, 44)) * 255).astype(np.uint8)
    tifffile.imwrite(tmp_path / "movie.tif", video, imagej=True, resolution=(2.0, 2.0),
                     metadata={"axes": "TYX", "unit": "um", "finterval": 2.5})
    calls = []
    predict = keras_predictor(model)

    def counting(batch):
        calls.append(batch.shape)
        return predict(batch)

    options = InferenceOptions(normalize=lambda f: f.astype(np.float32) / 255.0, progress=False,
                               postprocess=PostprocessOptions(threshold_method="fixed"),
                               **{k: v for k, v in TILING.items() if k != "batch_size"})
    written, per_frame = infer_video_file(tmp_path / "movie.tif", tmp_path / "out", counting,
                                          options, spec)
    tiles = len(list(iter_tiles((40, 44), 32, 4, 4, 4)))
    assert sum(shape[0] for shape in calls) == 30 * tiles  # every frame predicted once
    assert all(shape[1:] == (3, 32, 32, 1) for shape in calls)
    for kind in ("probability", "mask", "labels", "overlay"):
        with tifffile.TiffFile(written[kind]) as tif:
            assert tif.series[0].axes.startswith("TYX") and tif.series[0].shape[:3] == (30, 40, 44)
        calibration = read_calibration(written[kind])
        assert calibration.pixel_size == pytest.approx(0.5)
        assert calibration.frame_interval == pytest.approx(2.5)
    # values: on 32 px frames (one tile, no halo) frame t is the model's output for its window
    small = video[:, :32, :32, None].astype(np.float32) / 255.0
    out, _ = predict_video(small, predict, spec, progress=False, tile_size=32, halo=0,
                           overlap=0, input_multiple=4)
    for t in (0, 1, 29):
        window = small[window_indices(t, 3, 30, "repeat")][None]
        np.testing.assert_allclose(out[t], predict(window)[0], atol=1e-5)
    assert not np.allclose(out[0], out[29], atol=1e-3)
