"""Video inference: ConvLSTM models over sliding windows, streamed frame by frame.

Every frame t is predicted exactly once, from the window of `time_windows` frames that ENDS at
t (`[infer] window_placement = "end"`, as training builds its windows); at the start of a video
the missing frames are filled by the run's `generator.time_padding` through
`dl_suite.data.windows.window_indices`, the function training uses. Only the frames of the
current window are held in memory; each window is tiled in space by `predict_tiled` (its frames
ride as channels through the tiler and are unfolded to (N, T, h, w, C) in the predictor), and
every output is written frame by frame into memory-mapped ImageJ hyperstacks.
"""

import logging
import time
from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

from dl_suite.data.windows import PADDINGS, window_indices
from dl_suite.inference.oom import BatchSizeController
from dl_suite.inference.tiling import _release_mapped_pages, predict_tiled

logger = logging.getLogger(__name__)

PLACEMENTS = ("end",)


@dataclass(frozen=True)
class VideoSpec:
    """How a model sees a video.

    Args:
        time_windows: frames per model input (1 for a per-frame 2-D model).
        frame_model: True for a 2-D model (input (N, h, w, C)), predicted frame by frame.
        all_frames: the model outputs every frame of the window (N, T, h, w, K); the window's
            last frame (the frame the window ends at) is kept.
        padding: "mirror" or "repeat", as `generator.time_padding` at training.
        placement: where frame t sits in its window; "end" (the only placement of training).
        fixed_size: (h, w) when the model takes exactly this input size, else None.
    """

    time_windows: int = 1
    frame_model: bool = True
    all_frames: bool = False
    padding: str = "mirror"
    placement: str = "end"
    fixed_size: tuple = None

    def __post_init__(self):
        if self.padding not in PADDINGS or self.placement not in PLACEMENTS:
            raise ValueError(
                f"Received time_padding={self.padding!r}, window_placement={self.placement!r}; "
                f"expected one of {PADDINGS} and one of {PLACEMENTS}. To fix, set "
                "generator.time_padding as in training and infer.window_placement = 'end'."
            )


def is_video_model(model):
    """True for models whose input is a window of frames (B, T, H, W, C)."""
    return len(model.inputs[0].shape) == 5


def video_spec(model, padding="mirror", placement="end"):
    """The `VideoSpec` of a Keras model (time windows, output kind, fixed size) from its shapes."""
    shape = tuple(model.inputs[0].shape)
    fixed = None if shape[-3] is None else (int(shape[-3]), int(shape[-2]))
    if len(shape) != 5:
        return VideoSpec(1, True, False, padding, placement, fixed)
    if shape[1] is None:
        raise ValueError(
            f"The video model's input {shape} has no fixed number of frames; expected "
            "(batch, time_windows, H, W, C). To fix, build it with model.time_windows set."
        )
    all_frames = len(model.outputs[0].shape) == 5
    return VideoSpec(int(shape[1]), False, all_frames, padding, placement, fixed)


def iter_windows(frames, time_windows, padding="mirror", normalize=None):
    """Yields `(t, window)` for every frame t in order, window (T, H, W, C) float32.

    The window is `frames[window_indices(t, ...)]`; only the frames of the current window are
    kept (read from `frames`, e.g. a memmap, as they are first needed).

    Args:
        frames: (N, H, W, C) array-like.
        time_windows, padding: see `dl_suite.data.windows.window_indices`.
        normalize: optional callable frame (H, W, C) -> float32 frame.
    """
    num_frames = len(frames)
    cache = {}
    for t in range(num_frames):
        indices = [int(i) for i in window_indices(t, time_windows, num_frames, padding)]
        for k in [k for k in cache if k not in indices]:
            del cache[k]
        for k in indices:
            if k not in cache:
                frame = np.asarray(frames[k])
                frame = normalize(frame) if normalize is not None else frame
                cache[k] = np.asarray(frame, np.float32)
        yield t, np.stack([cache[k] for k in indices])


def _pad_tiles(batch, size):
    from dl_suite.data.preprocess import pad_to_size

    return np.stack([pad_to_size(tile, size) for tile in batch])


def window_tile_predictor(predict, spec, channels):
    """A tile predictor for `predict_tiled` from a model predictor over windows.

    Args:
        predict: callable float32 (N, T, h, w, C) -> (N, h, w, K) or (N, T, h, w, K); for a
            frame model (N, h, w, C) -> (N, h, w, K).
        spec: `VideoSpec`.
        channels: C, the model's input channels per frame.

    Returns:
        callable (N, h, w, T * C) -> (N, h, w, K) (windows ride as channels through the tiler).
    """
    steps = spec.time_windows

    def tile_predict(batch):
        n, h, w, tc = batch.shape
        if tc != steps * channels:
            raise ValueError(f"Received tiles with {tc} channels; expected {steps} x {channels}.")
        if spec.fixed_size and (h, w) != tuple(spec.fixed_size):
            if h > spec.fixed_size[0] or w > spec.fixed_size[1]:
                raise ValueError(f"Tile {h}x{w} is larger than the model input {spec.fixed_size}.")
            batch = _pad_tiles(batch, spec.fixed_size)
        if spec.frame_model:
            out = np.asarray(predict(batch))
        else:
            big_h, big_w = batch.shape[1:3]
            windows = batch.reshape(n, big_h, big_w, steps, channels).transpose(0, 3, 1, 2, 4)
            out = np.asarray(predict(np.ascontiguousarray(windows)))
            if out.ndim == 5:
                out = out[:, -1]  # placement "end": frame t is the window's last frame
        return out[:, :h, :w]

    return tile_predict


def predict_video(frames, predict, spec, *, out=None, normalize=None, batch_control=None,
                  progress=True, **tiling):
    """Predicts every frame of a video once, window by window, into `out`.

    Args:
        frames: (N, H, W, C) array-like (read lazily, frame by frame).
        predict: model predictor (see `window_tile_predictor`).
        spec: `VideoSpec`.
        out: writable (N, H, W, K) array (e.g. a memmap); allocated if None.
        normalize: optional callable frame -> float32 frame (the run's normalisation).
        batch_control: optional shared `BatchSizeController`.
        progress: show a progress bar of frames.
        **tiling: passed to `predict_tiled` (tile_size, halo, overlap, window, tta,
            input_multiple, batch_size).

    Returns:
        (out, seconds per frame).
    """
    num_frames, height, width, channels = frames.shape
    tile_predict = window_tile_predictor(predict, spec, channels)
    batch_size = tiling.pop("batch_size", 4)
    control = batch_control or BatchSizeController(batch_size)
    start = time.perf_counter()
    steps = spec.time_windows
    windows = iter_windows(frames, steps, spec.padding, normalize)
    for t, window in tqdm(windows, total=num_frames, desc="frames", unit="frame",
                          disable=not progress, leave=False):
        stacked = np.moveaxis(window, 0, 2).reshape(height, width, steps * window.shape[-1])
        target = None if out is None else out[t]
        pred = predict_tiled(stacked, tile_predict, out=target, progress=False,
                             batch_control=control, **tiling)
        if out is None:
            out = np.zeros((num_frames,) + pred.shape, np.float32)
            out[t] = pred
        if (t + 1) % 8 == 0:  # a memory-mapped input: drop the pages of frames already read
            _release_mapped_pages(frames)
    per_frame = (time.perf_counter() - start) / max(num_frames, 1)
    logger.info("Predicted %d frame(s) with windows of %d: %.4f s per frame.", num_frames, steps,
                per_frame)
    return out, per_frame
