"""Video files in, ImageJ hyperstacks out: streamed window prediction + temporal post-processing.

Per file: the probability (T, Y, X[, C]) is predicted window by window into a memory-mapped
TIFF; the foreground is then smoothed along T (streamed, `temporal.iter_smoothed`), thresholded
and cleaned per frame (`postprocess`, so `min_size` removes small objects in every frame) into
a memory-mapped mask, short-lived objects are removed (`temporal.remove_short_lived`) and
instance labels are written per frame. Outputs keep T and the calibration (pixel size, frame
interval) of the input.
"""

import logging
from dataclasses import replace
from pathlib import Path

import numpy as np

from dl_suite.data.preprocess import model_frames
from dl_suite.errors import DataError
from dl_suite.inference import outputs as out_files
from dl_suite.inference.batch import InferenceOptions, run_inputs
from dl_suite.inference.oom import BatchSizeController
from dl_suite.inference.overlay import make_overlay
from dl_suite.inference.postprocess import postprocess
from dl_suite.inference.temporal import (
    TemporalOptions,
    iter_smoothed,
    remove_short_lived,
)
from dl_suite.inference.tiling import _release_mapped_pages
from dl_suite.inference.video import (
    VideoSpec,
    is_video_model,
    predict_video,
    video_spec,
)
from dl_suite.io import open_image_data
from dl_suite.io.imagej import calibration_kwargs
from dl_suite.io.large_tiff import create_output_tiff

logger = logging.getLogger(__name__)


def video_setup(model, cfg, run_cfg):
    """(predict, VideoSpec, TemporalOptions) for the video path, or None for the per-frame path.

    The video path is taken for video models and whenever temporal post-processing is on; the
    time padding is the run's own `generator.time_padding` (the same as in training).
    """
    from dl_suite.inference.predictors import keras_predictor

    temporal = TemporalOptions.from_config(cfg["segmentation"])
    if not is_video_model(model) and not temporal.active:
        return None
    padding = run_cfg["generator"]["time_padding"]
    spec = video_spec(model, padding, cfg["infer"]["window_placement"])
    return keras_predictor(model), spec, temporal


def read_video(path, num_channels, pixel_size=None, unit="um", axes=None):
    """Opens a video lazily as (T, H, W, C) frames with its calibration, through the one image
    contract of `dl_suite.io` (`[dataset] axes` override) and the one channel rule.

    Returns:
        (frames array-like, Calibration).
    """
    image = open_image_data(path, axes=axes)
    calibration = image.calibration
    if calibration.pixel_size is None and pixel_size is not None:
        calibration = replace(calibration, pixel_size=pixel_size, unit=unit)
    return model_frames(image.array, num_channels, path), calibration


def _scratch(paths, kind, output_dir, stem):
    return paths.get(kind, Path(output_dir) / f".{stem}_{kind}_scratch.tif")


def _output(path, shape, dtype, axes, stack, calibration):
    """A memory-mapped output TIFF and its (T, ...) view (a single frame gets T = 1)."""
    if not stack:
        shape, axes = shape[1:], axes[1:]
    tiff = create_output_tiff(path, shape, dtype, axes, **calibration)
    return tiff, (tiff.array if stack else tiff.array[None])


def _close(tiff, keep):
    if keep:
        return tiff.commit()
    tiff.discard()
    tiff.committed = True
    return None


RELEASE_EVERY = 8  # frames between drops of the written pages of memory-mapped outputs


def _releaser(*arrays):
    """callable(t) that drops the resident pages of memory-mapped `arrays` every few frames,
    so the memory of a long video does not grow as its output files fill."""
    def release(t):
        if (t + 1) % RELEASE_EVERY == 0:
            for array in arrays:
                if array is not None:
                    _release_mapped_pages(array)

    return release


def _write_overlays(path, frames, masks, labels, options, stack, cal, calibration):
    """Overlays frame by frame: an RGB hyperstack (memory-mapped) or, for one frame, a PNG."""
    def rgb(t):
        lab = None if labels is None or options.postprocess.instance_method == "none" else labels[t]
        return make_overlay(np.asarray(frames[t]), mask=np.asarray(masks[t]) > 0,
                            labels=None if lab is None else np.asarray(lab),
                            style=options.overlay_style, colour=options.overlay_colour,
                            black=options.legacy_black, white=options.legacy_white)

    if not stack:
        return out_files.write_overlay(path, rgb(0)[None], out_files.FrameLayout(1), calibration)
    num_frames, height, width = masks.shape
    with create_output_tiff(path, (num_frames, height, width, 3), np.uint8, "TYXS", **cal) as tiff:
        release = _releaser(tiff.array, masks, labels, frames)
        for t in range(num_frames):
            tiff.array[t] = rgb(t)
            release(t)
    return tiff.path


def infer_video_file(path, output_dir, predict, options=InferenceOptions(), spec=VideoSpec(),
                     temporal=TemporalOptions(), *, batch_control=None, stem=None):
    """Segments one video (or image) file; returns (kind -> written path, seconds per frame).

    Outputs are named `<stem>_<kind>` (default: the file's stem; see `batch.output_stems`).

    Raises:
        DataError/ValueError: unreadable file or a shape the model does not accept.
    """
    path = Path(path)
    frames, calibration = read_video(path, options.num_channels, options.pixel_size, options.unit,
                                       axes=options.axes)
    num_frames, height, width = frames.shape[:3]
    stack = num_frames > 1
    stem = stem or path.stem
    paths = out_files.output_paths(output_dir, stem, options.outputs, stack=stack)
    cal = calibration_kwargs(calibration)
    k = options.num_outputs
    prob_shape, prob_axes = ((num_frames, height, width), "TYX") if k == 1 else (
        (num_frames, height, width, k), "TYXC")
    control = batch_control or BatchSizeController(options.batch_size)
    written, pp = {}, options.postprocess
    prob_file, prob = _output(_scratch(paths, "probability", output_dir, stem), prob_shape,
                              np.float32, prob_axes, stack, cal)
    tiffs = [prob_file]
    try:
        prob4 = prob[..., None] if k == 1 else prob
        _, per_frame = predict_video(
            frames, predict, spec, out=prob4, normalize=options.normalize, batch_control=control,
            progress=options.progress, tile_size=options.tile_size, halo=options.halo,
            overlap=options.overlap, window=options.window, tta=options.tta,
            input_multiple=options.input_multiple)
        mask_file, masks = _output(_scratch(paths, "mask", output_dir, stem),
                                   (num_frames, height, width), np.uint8, "TYX", stack, cal)
        tiffs.append(mask_file)
        labels = None
        if "labels" in paths:
            label_file, labels = _output(paths["labels"], (num_frames, height, width), np.uint16,
                                         "TYX", stack, cal)
            tiffs.append(label_file)
        channel = pp.smoothing_channel
        release = _releaser(prob, masks, labels)
        for t, fg in iter_smoothed(prob4[..., channel], temporal.time_sigma):
            frame_prob = np.array(prob4[t])
            frame_prob[..., channel] = fg
            _, _, mask, lab = postprocess(frame_prob, pp, run_threshold=options.run_threshold)
            masks[t] = mask.astype(np.uint8) * 255
            if labels is not None and lab is not None:
                if int(lab.max(initial=0)) > 65535:
                    raise DataError(f"Frame {t} of '{path.name}' has more than 65535 objects; "
                                    "the labels hyperstack holds uint16. Raise min_size.")
                labels[t] = lab
            release(t)
        remove_short_lived(masks, temporal.min_duration, labels=labels, after_frame=release)
        if "overlay" in paths:
            written["overlay"] = _write_overlays(paths["overlay"], frames, masks, labels, options,
                                                 stack, cal, calibration)
        del prob, prob4, masks, labels
        for kind, tiff in zip(("probability", "mask", "labels"), tiffs):
            result = _close(tiff, kind in paths)
            if result is not None:
                written[kind] = result
    except BaseException:
        for tiff in tiffs:
            if not tiff.committed:
                tiff.discard()
        raise
    logger.info("Segmented video '%s' (%d frame(s), %dx%d, %.4f s per frame).", path.name,
                num_frames, height, width, per_frame)
    return written, per_frame


def infer_video_paths(paths, output_dir, predict, options=InferenceOptions(), spec=VideoSpec(),
                      temporal=TemporalOptions(), overwrite=False, shard=None):
    """Like `batch.infer_paths` for videos: resumable, one bad file does not stop the others.

    Returns:
        InferenceReport (its JSON in output_dir also lists the seconds per frame of each file).
    """
    timings = {}

    def segment(path, stem, control):
        _, timings[path.name] = infer_video_file(path, output_dir, predict, options, spec,
                                                 temporal, batch_control=control, stem=stem)

    def extra():
        return {"seconds_per_frame": {name: round(s, 5) for name, s in timings.items()},
                "time_windows": spec.time_windows}

    return run_inputs(paths, output_dir, options, segment, overwrite=overwrite, shard=shard,
                      report_extra=extra)
