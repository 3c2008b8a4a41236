"""Time windows for video models: frame t and the T-1 frames before it.

The window ends at t; at the start of a video the missing frames are filled by mirroring
(t = -1 -> 1, -2 -> 2) or by repeating frame 0. Training and inference must use the same
padding, so the choice is part of the run's config.
"""

import numpy as np

from dl_suite.data.dataset import SegmentationDataset, _pad_to

PADDINGS = ("mirror", "repeat")


def window_indices(t, time_windows, num_frames, padding="mirror"):
    """Frame indices of the window of `time_windows` frames ending at frame `t`."""
    if padding not in PADDINGS:
        raise ValueError(
            f"Received `padding={padding!r}`, expected 'mirror' or 'repeat' (use the same at "
            "training and inference)."
        )
    if not 0 <= t < num_frames or time_windows < 1:
        raise ValueError(
            f"Received t={t}, time_windows={time_windows} for a video of {num_frames} frames; "
            "expected 0 <= t < frames and time_windows >= 1."
        )
    idx = np.arange(t - time_windows + 1, t + 1)
    if padding == "repeat":
        return np.maximum(idx, 0)
    if num_frames == 1:
        return np.zeros_like(idx)
    period = 2 * (num_frames - 1)
    idx = np.abs(idx) % period
    return np.where(idx >= num_frames, period - idx, idx)


def time_window(stack, t, time_windows, padding="mirror"):
    """The (T, ...) window of `stack` (N, ...) ending at frame t."""
    return np.asarray(stack)[window_indices(t, time_windows, len(stack), padding)]


def sample_time_window(stack, rng, time_windows, padding="mirror"):
    """A random frame t and its window: returns (window, t)."""
    t = int(rng.integers(len(stack)))
    return time_window(stack, t, time_windows, padding), t


class VideoSegmentationDataset(SegmentationDataset):
    """Like `SegmentationDataset`, with inputs of `time_windows` frames per sample.

    Every (video, t) frame with a mask is a sample; its window is augmented with ONE draw
    (the frames ride as channels through the composed coordinate map).

    Args:
        videos: list of (N, H, W, C) (or (N, H, W)) float32 normalised stacks.
        masks: list of (N, H, W) masks, one per frame (the target is the mask of frame t).
        time_windows: frames per sample (T).
        padding: "mirror" or "repeat" at the start of a video.
        **kwargs: as `SegmentationDataset`.

    Yields:
        x float32 (B, T, h, w, C) and y as `SegmentationDataset`.
    """

    def __init__(self, videos, masks, *, time_windows, padding="mirror", **kwargs):
        videos = [np.asarray(v, dtype=np.float32) for v in videos]
        videos = [v[..., None] if v.ndim == 3 else v for v in videos]
        masks = [np.asarray(m) for m in masks]
        window_indices(0, int(time_windows), 1, padding)  # validates the arguments
        self.time_windows = int(time_windows)
        self.padding = padding
        self.frames = [(v, t) for v, video in enumerate(videos) for t in range(len(video))]
        frames = [videos[v][t] for v, t in self.frames]
        frame_masks = [masks[v][t] for v, t in self.frames]
        super().__init__(frames, frame_masks, **kwargs)
        self.videos = [np.stack([_pad_to(f, self.patch_size) for f in v]) for v in videos]

    def _source_image(self, i):
        v, t = self.frames[i]
        window = time_window(self.videos[v], t, self.time_windows, self.padding)
        return np.concatenate(list(window), axis=-1)  # (H, W, T * C)

    def _finish_x(self, x):
        h, w, tc = x.shape
        return np.moveaxis(x.reshape(h, w, self.time_windows, tc // self.time_windows), 2, 0)
