"""Folders of single-frame 2-D images that a videos CSV groups into videos (the JSON dialect's
`inputs/raw_NNN.tif`): each video is predicted with the same windows as a video file
(`predict_video`), then each frame's outputs are written under the frame file's own name
(2-D `<stem>_prob.tif`, `_mask.tif`, `_labels.tif`, `_overlay.png`), post-processed as the
video path does (temporal smoothing, `postprocess`, short-lived objects removed).
"""

import logging
from dataclasses import replace
from pathlib import Path

import numpy as np

from dl_suite.data.preprocess import model_frames
from dl_suite.inference import outputs as out_files
from dl_suite.inference.batch import InferenceOptions, run_inputs
from dl_suite.inference.overlay import make_overlay
from dl_suite.inference.postprocess import postprocess
from dl_suite.inference.temporal import TemporalOptions, iter_smoothed, remove_short_lived
from dl_suite.inference.video import VideoSpec, predict_video
from dl_suite.io import read_image_data

logger = logging.getLogger(__name__)


class FrameFiles:
    """A lazy (T, H, W, C) stack of 2-D frame files (read one by one, model channels)."""

    def __init__(self, paths, channels, axes=None):
        self.paths, self.channels, self.axes = [Path(p) for p in paths], channels, axes
        first = self.read(0)
        self.shape = (len(self.paths),) + first.shape
        self.ndim = 4

    def read(self, t):
        path = self.paths[t]
        array = read_image_data(path, axes=self.axes).array
        return np.asarray(model_frames(array, self.channels, path)[0])

    def __len__(self):
        return self.shape[0]

    def __getitem__(self, t):
        return self.read(int(t))


def segment_frame_video(paths, predict, options=InferenceOptions(), spec=VideoSpec(),
                        temporal=TemporalOptions(), *, batch_control=None):
    """(frames, probabilities (T, H, W, K), masks (T, H, W) bool, labels or None) of one video
    made of 2-D frame files."""
    frames = FrameFiles(paths, options.num_channels, options.axes)
    prob, _ = predict_video(
        frames, predict, spec, normalize=options.normalize, batch_control=batch_control,
        progress=False, tile_size=options.tile_size, halo=options.halo, overlap=options.overlap,
        window=options.window, tta=options.tta, input_multiple=options.input_multiple)
    pp, channel = options.postprocess, options.postprocess.foreground_channel
    masks = np.zeros(prob.shape[:3], np.uint8)
    labels = np.zeros(prob.shape[:3], np.int32)
    for t, fg in iter_smoothed(prob[..., channel], temporal.time_sigma):
        frame_prob = np.array(prob[t])
        frame_prob[..., channel] = fg
        _, _, mask, lab = postprocess(frame_prob, pp, run_threshold=options.run_threshold)
        masks[t] = mask.astype(np.uint8) * 255
        if lab is not None:
            labels[t] = lab
    remove_short_lived(masks, temporal.min_duration, labels=labels)
    if pp.instance_method == "none":
        labels = None
    return frames, prob, masks > 0, labels


def _write_frame(paths, frame, prob, mask, labels, options, calibration):
    layout = out_files.FrameLayout(1)
    if "probability" in paths:
        out_files.write_probability(paths["probability"], prob[None], layout, calibration)
    if "mask" in paths:
        out_files.write_mask(paths["mask"], mask[None], layout, calibration)
    if "labels" in paths and labels is not None:
        out_files.write_labels(paths["labels"], labels[None], layout, calibration)
    if "overlay" in paths:
        rgb = make_overlay(frame, mask=mask, labels=labels, style=options.overlay_style,
                           colour=options.overlay_colour, black=options.legacy_black,
                           white=options.legacy_white)
        out_files.write_overlay(paths["overlay"], rgb[None], layout, calibration)


def infer_frame_videos(groups, output_dir, predict, options=InferenceOptions(), spec=VideoSpec(),
                       temporal=TemporalOptions(), overwrite=False, shard=None):
    """Like `video_batch.infer_video_paths` for videos of 2-D frame files.

    Args:
        groups: {video name: [frame file paths in frame order]}.
        shard: optional `shards.Shard`: every N-th video (all its frames) is this shard's.

    Returns:
        InferenceReport.
    """
    video_of = {Path(p): video for video, members in groups.items() for p in members}
    cache = {}

    def segment(path, stem, control):
        video = video_of[path]
        if video not in cache:
            cache.clear()  # one video in memory at a time
            cache[video] = segment_frame_video(groups[video], predict, options, spec, temporal,
                                               batch_control=control)
            logger.info("Segmented video '%s' (%d frame files).", video, len(groups[video]))
        frames, prob, masks, labels = cache[video]
        t = [Path(p) for p in groups[video]].index(path)
        calibration = read_image_data(path, axes=options.axes).calibration
        if calibration.pixel_size is None and options.pixel_size is not None:
            calibration = replace(calibration, pixel_size=options.pixel_size, unit=options.unit)
        _write_frame(out_files.output_paths(output_dir, stem, options.outputs), frames[t],
                     prob[t], masks[t], None if labels is None else labels[t], options,
                     calibration)

    paths = [Path(p) for members in groups.values() for p in members]
    return run_inputs(paths, output_dir, options, segment, overwrite=overwrite, shard=shard,
                      groups=list(groups.values()), report_extra=lambda: {"videos": {v: [Path(p).name for p in m]
                                                       for v, m in groups.items()},
                                            "time_windows": spec.time_windows})
