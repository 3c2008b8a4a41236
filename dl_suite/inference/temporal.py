"""Temporal post-processing of videos, streamed frame by frame.

- `iter_smoothed`: Gaussian smoothing of probabilities along T (sigma in frames), which fills
  short gaps. It is streamed: frames are filtered in chunks of `chunk` frames plus a look-ahead
  (and look-behind) of `radius = int(4 * sigma + 0.5)` frames, so at most `chunk + 2 * radius`
  frames are in memory whatever the video length; the result equals filtering the whole video
  at once (scipy `gaussian_filter1d`, mode 'nearest' at the first and last frame).
- `remove_short_lived`: removes objects present in fewer than `min_duration` consecutive
  frames. An object is a 3-D connected component in (T, Y, X): 8-connected within a frame and
  linked to the previous frame where the two overlap at the same pixel. Two passes over the
  masks, each holding two frames plus one integer per object of the video.
"""

import logging
from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

logger = logging.getLogger(__name__)

DEFAULT_CHUNK = 16
_IN_PLANE = np.ones((3, 3), bool)


@dataclass(frozen=True)
class TemporalOptions:
    """The [segmentation] temporal options (see schema/temporal.json).

    Args:
        time_sigma: Gaussian sigma along T in frames (0 = off).
        min_duration: minimum number of consecutive frames an object must be present in
            (0 or 1 = keep all).
    """

    time_sigma: float = 0.0
    min_duration: int = 0

    @property
    def active(self):
        return bool(self.time_sigma) or self.min_duration > 1

    @classmethod
    def from_config(cls, section):
        """Options from the resolved [segmentation] section (missing keys keep defaults)."""
        section = dict(section or {})
        sigma = section.get("time_sigma") or 0.0
        duration = section.get("min_duration") or 0
        if sigma < 0 or duration < 0:
            raise ValueError(
                f"Received time_sigma={sigma}, min_duration={duration}; both must be >= 0 "
                "(0 = off). To fix, set e.g. time_sigma = 1 and min_duration = 3 in [segmentation]."
            )
        return cls(time_sigma=float(sigma), min_duration=int(duration))


def smoothing_radius(sigma):
    """Frames on each side that the Gaussian of `sigma` frames reaches (scipy's truncate=4)."""
    return int(4.0 * float(sigma) + 0.5) if sigma else 0


def iter_smoothed(frames, sigma, chunk=DEFAULT_CHUNK):
    """Yields `(t, frame)` for every frame, Gaussian-smoothed along T, in order.

    Args:
        frames: (T, H, W) array-like (a memmap view is fine: only slices are read).
        sigma: Gaussian sigma in frames; 0 yields the frames unchanged (as float32).
        chunk: frames produced per filtering step (memory: chunk + 2 * radius frames).

    Yields:
        (t, float32 (H, W)).
    """
    num_frames = len(frames)
    if not sigma:
        for t in range(num_frames):
            yield t, np.asarray(frames[t], np.float32)
        return
    radius = smoothing_radius(sigma)
    for start in range(0, num_frames, int(chunk)):
        stop = min(num_frames, start + int(chunk))
        low, high = max(0, start - radius), min(num_frames, stop + radius)
        block = np.asarray(frames[low:high], np.float32)
        smooth = ndi.gaussian_filter1d(block, float(sigma), axis=0, mode="nearest", truncate=4.0)
        for t in range(start, stop):
            yield t, smooth[t - low]


def _frame_components(mask):
    labels, count = ndi.label(np.asarray(mask) > 0, structure=_IN_PLANE)
    return labels, count


def object_durations(masks, after_frame=None):
    """Frames spanned by every object (3-D component) of a (T, H, W) mask video.

    `after_frame(t)`, if given, is called after frame t was read (e.g. to drop mapped pages).

    Returns:
        (offsets, objects, durations): 2-D component `i` (1-based) of frame t is node
        `offsets[t] + i - 1`; `objects[node]` is its 3-D object and `durations[object]` the
        number of consecutive frames that object spans.
    """
    offsets, frame_of, rows, cols = [], [], [], []
    previous, previous_offset, total = None, 0, 0
    for t in range(len(masks)):
        labels, count = _frame_components(masks[t])
        offsets.append(total)
        frame_of.append(np.full(count, t, np.int64))
        if previous is not None and count:
            both = (labels > 0) & (previous > 0)
            pairs = np.unique(np.stack([previous[both], labels[both]]), axis=1)
            rows.append(pairs[0] + previous_offset - 1)
            cols.append(pairs[1] + total - 1)
        previous, previous_offset, total = labels, total, total + count
        if after_frame is not None:
            after_frame(t)
    if total == 0:
        return np.asarray(offsets), np.zeros(0, np.int64), np.zeros(0, np.int64)
    rows = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    cols = np.concatenate(cols) if cols else np.zeros(0, np.int64)
    graph = coo_matrix((np.ones(len(rows), np.int8), (rows, cols)), shape=(total, total))
    _, component = connected_components(graph, directed=False)
    frame_of = np.concatenate(frame_of)
    first = np.full(component.max() + 1, np.iinfo(np.int64).max)
    last = np.full(component.max() + 1, -1)
    np.minimum.at(first, component, frame_of)
    np.maximum.at(last, component, frame_of)
    return np.asarray(offsets), component, last - first + 1


def remove_short_lived(masks, min_duration, labels=None, after_frame=None):
    """Removes objects present in fewer than `min_duration` consecutive frames, in place.

    Args:
        masks: (T, H, W) writable array-like (memmap fine), foreground > 0.
        min_duration: minimum frames; 0 or 1 keeps everything.
        labels: optional (T, H, W) writable instance labels of the same masks; removed pixels
            are set to 0 there too.
        after_frame: optional callable(t) called after each frame of each pass.

    Returns:
        int: number of objects (3-D components) removed.
    """
    if min_duration <= 1 or len(masks) == 0:
        return 0
    offsets, objects, durations = object_durations(masks, after_frame)
    short = (durations < int(min_duration))[objects]
    for t in range(len(masks)):
        frame_labels, count = _frame_components(masks[t])
        if after_frame is not None:
            after_frame(t)
        if not count:
            continue
        drop = np.zeros(count + 1, bool)
        drop[1:] = short[offsets[t] : offsets[t] + count]
        if drop.any():
            gone = drop[frame_labels]
            frame = np.asarray(masks[t]).copy()
            frame[gone] = 0
            masks[t] = frame
            if labels is not None:
                lab = np.asarray(labels[t]).copy()
                lab[gone] = 0
                labels[t] = lab
    removed = int(np.count_nonzero(durations < int(min_duration)))
    logger.info("Removed %d object(s) present in fewer than %d consecutive frames.", removed,
                min_duration)
    return removed

