"""Time windows for video models: frame t and the T-1 frames before it.

The window ends at t; at the start of a video the missing frames are filled by mirroring
(t = -1 -> 1, -2 -> 2) or by repeating frame 0. Training and inference must use the same
padding, so the choice is part of the run's config.
"""

import numpy as np

from dl_suite.data.dataset import SegmentationDataset, _pad_to
from dl_suite.errors import DataError

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

    A sample is a frame t that has a mask (with `all_frames`: a window whose frames all have
    masks); frames without a mask are context only. The window of t is `window_indices(t, ...)`,
    the function inference uses too. Each window is augmented with ONE draw: its frames ride as
    channels through the composed coordinate map (and the photometric ops), so all frames and
    all masks get the same transform.

    Args:
        videos: list of (N, H, W, C) (or (N, H, W)) float32 normalised stacks.
        masks: one entry per video: an (N, H, W) array, or a list of N masks where None marks
            a frame without annotation.
        time_windows: frames per sample (T).
        padding: "mirror" or "repeat" at the start of a video.
        all_frames: the target is the mask of every frame of the window (for models with
            `output_all_frames`) instead of the mask of the last frame.
        **kwargs: as `SegmentationDataset` (weight maps only with the last-frame target).

    Yields:
        x float32 (B, T, h, w, C); y as `SegmentationDataset`, (B, T, h, w, K) with all_frames.

    Raises:
        DataError: no frame has a mask, or a video's masks do not match its frames.
    """

    def __init__(self, videos, masks, *, time_windows, padding="mirror", all_frames=False,
                 **kwargs):
        window_indices(0, int(time_windows), 1, padding)  # validates the arguments
        self.time_windows, self.padding, self.all_frames = int(time_windows), padding, bool(all_frames)
        videos = [np.asarray(v, dtype=np.float32) for v in videos]
        videos = [v[..., None] if v.ndim == 3 else v for v in videos]
        masks = [_frame_masks(m, len(v), i) for i, (v, m) in enumerate(zip(videos, masks))]
        if len(videos) != len(masks):
            raise DataError(f"Received {len(videos)} videos but {len(masks)} mask videos.")
        if all_frames and kwargs.get("weight_map") not in (None, "none"):
            raise ValueError("Weight maps work with the last-frame target only; set "
                             "generator.weight_map = none or model.output_all_frames = False.")
        self.frames = []
        for v, video in enumerate(videos):
            for t in range(len(video)):
                need = window_indices(t, self.time_windows, len(video), padding) if all_frames else [t]
                if all(masks[v][k] is not None for k in need):
                    self.frames.append((v, t))
        if not self.frames:
            raise DataError(
                f"None of the {len(videos)} training videos has a frame with a mask"
                + (" in every frame of a window" if all_frames else "")
                + ". Provide label videos, or CTC 01_GT/SEG (or 01_ST/SEG) masks."
            )
        super().__init__([videos[v][t] for v, t in self.frames],
                         [masks[v][t] for v, t in self.frames], **kwargs)
        self.videos = [np.stack([_pad_to(f, self.patch_size) for f in v]) for v in videos]
        self.video_masks = None
        if all_frames:  # raw masks: targets are derived per patch after augmentation
            self.video_masks = [[None if m is None else _pad_to(m, self.patch_size) for m in ms]
                                for ms in masks]

    def _window(self, i):
        v, t = self.frames[i]
        return v, window_indices(t, self.time_windows, len(self.videos[v]), self.padding)

    def _source_image(self, i):
        v, idx = self._window(i)
        return np.concatenate(list(self.videos[v][idx]), axis=-1)  # (H, W, T * C)

    def _source_mask(self, i):
        if not self.all_frames:
            return self.masks[i]
        v, idx = self._window(i)
        return np.stack([self.video_masks[v][k] for k in idx], axis=-1)  # (H, W, T)

    def _finish_x(self, x):
        h, w, tc = x.shape
        return np.moveaxis(x.reshape(h, w, self.time_windows, tc // self.time_windows), 2, 0)

    def _finish_y(self, y):
        return np.moveaxis(y, 3, 1) if self.all_frames else y  # (B, h, w, T, K) -> (B, T, ...)


def _frame_masks(masks, num_frames, index):
    """One entry per frame: an (H, W) mask or None (context only)."""
    if masks is None:
        return [None] * num_frames
    masks = list(masks)
    if len(masks) != num_frames:
        raise DataError(f"Video #{index} has {num_frames} frames but {len(masks)} masks; give "
                        "one mask per frame (None for frames without annotation).")
    return [None if m is None else np.asarray(m) for m in masks]
