"""Video scorecards: one row per frame (video name, frame index) plus per-video means.

Frames are named `<video>#<frame>` (as `dl_suite.workflows.data.load_samples` names the slices
of a stack); a name without `#` is a one-frame video. `score_videos` scores every frame with
`evaluate_images` and adds `video` and `frame` columns and, in the summary, `videos`:
{video: {"num_frames": n, "mean": {metric: mean over its frames}}}. The overall `mean` stays the
mean over all frames.
"""

import numpy as np

from dl_suite.evaluation.scorecard import evaluate_images, mean_row

FRAME_SEPARATOR = "#"


def split_frame_name(name):
    """`"movie#12"` -> ("movie", 12); a name without a frame index -> (name, 0)."""
    name = str(name)
    video, sep, frame = name.rpartition(FRAME_SEPARATOR)
    if sep and frame.isdigit():
        return video, int(frame)
    return name, 0


def frame_name(video, frame):
    """The row name of frame `frame` of `video` (inverse of `split_frame_name`)."""
    return f"{video}{FRAME_SEPARATOR}{int(frame)}"


def group_frames(names):
    """Mapping video -> positions in `names` of its frames, in frame order (videos in order of
    first appearance)."""
    groups = {}
    for position, name in enumerate(names):
        video, frame = split_frame_name(name)
        groups.setdefault(video, []).append((frame, position))
    return {video: [p for _, p in sorted(items)] for video, items in groups.items()}


def add_video_columns(rows):
    """Adds `video` and `frame` after `image` in every row (in place); returns the rows."""
    for index, row in enumerate(rows):
        video, frame = split_frame_name(row["image"])
        items = list(row.items())
        rows[index] = dict(items[:1] + [("video", video), ("frame", frame)] + items[1:])
    return rows


def video_summary(rows):
    """{video: {"num_frames": n, "mean": mean_row of its frames}} for rows with `video`."""
    groups = {}
    for row in rows:
        groups.setdefault(row["video"], []).append(row)
    return {video: {"num_frames": len(frames), "mean": mean_row(frames)}
            for video, frames in groups.items()}


def score_frames(probs, trues, names, **kwargs):
    """`evaluate_images` over frames named `<video>#<frame>`, as a video scorecard.

    Args:
        probs, trues, names: per-frame predicted masks (what infer writes), true masks, names.
        **kwargs: passed to `evaluate_images` (labels, scores, ...).

    Returns:
        (rows, summary): rows with `video` and `frame` columns; summary with `num_videos`,
        `videos` (per-video means) and `mean` over all frames.
    """
    rows, summary = evaluate_images(probs, trues, names, **kwargs)
    add_video_columns(rows)
    summary["videos"] = video_summary(rows)
    summary["num_videos"] = len(summary["videos"])
    return rows, summary


def score_videos(videos, **kwargs):
    """Scores whole videos.

    Args:
        videos: iterable of (name, predicted masks (T, H, W) bool, true masks (T, H, W)).
        **kwargs: passed to `evaluate_images`.

    Returns:
        (rows, summary) as `score_frames`.
    """
    probs, trues, names = [], [], []
    for name, prob, true in videos:
        if len(prob) != len(true):
            raise ValueError(f"Video '{name}' has {len(prob)} predicted frames but {len(true)} "
                             "mask frames; expected one mask per frame.")
        probs += list(prob)
        trues += list(true)
        names += [frame_name(name, t) for t in range(len(prob))]
    return score_frames(probs, trues, names, **kwargs)


def predict_videos(names, images, predict, spec, **tiling):
    """Per-frame probabilities of preprocessed frames, each video predicted window by window.

    Args:
        names: frame names `<video>#<frame>`; images: matching (H, W, C) float32 frames.
        predict, spec: model predictor and `VideoSpec` (see `dl_suite.inference.video`).
        **tiling: passed to `predict_video`.

    Returns:
        list of (H, W, K) float32, one per frame, in the order of `images`.
    """
    from dl_suite.inference.video import predict_video

    probs = [None] * len(images)
    for positions in group_frames(names).values():
        frames = np.stack([np.asarray(images[p], np.float32) for p in positions])
        out, _ = predict_video(frames, predict, spec, progress=False, **tiling)
        for position, prob in zip(positions, out):
            probs[position] = prob
    return probs
