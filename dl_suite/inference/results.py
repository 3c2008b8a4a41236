"""Mask, label and overlay files from a predicted probability map: in memory or streamed.

Small frames are post-processed whole (`postprocess.postprocess`). Frames over
`options.stream_pixels` pixels are post-processed chunk by chunk (`chunked.postprocess_chunked`)
into memory-mapped TIFFs with the same content, so memory stays bounded. Overlays of frames wider
than `options.overlay_max_side` are drawn on every f-th pixel (the PNG is smaller than the image).
"""

import logging

import numpy as np

from dl_suite.inference import outputs as out_files
from dl_suite.inference.chunked import CHUNKED_INSTANCE_METHODS, postprocess_chunked
from dl_suite.inference.overlay import make_overlay
from dl_suite.inference.postprocess import postprocess
from dl_suite.inference.tiling import _release_mapped_pages
from dl_suite.io.imagej import calibration_kwargs
from dl_suite.io.large_tiff import create_output_tiff

logger = logging.getLogger(__name__)


def use_streaming(options, height, width):
    """Whether a frame is post-processed chunk by chunk on disk (large frames)."""
    if height * width <= options.stream_pixels:
        return False
    if options.postprocess.instance_method not in CHUNKED_INSTANCE_METHODS:
        logger.warning("instance_method '%s' has no chunked form: the %dx%d frame is "
                       "post-processed in memory.", options.postprocess.instance_method, height, width)
        return False
    return True


def _overlay(frame, mask, labels, options):
    """Overlay of one frame at most `overlay_max_side` pixels wide (every f-th pixel)."""
    f = max(1, -(-max(frame.shape[:2]) // options.overlay_max_side))
    return make_overlay(np.asarray(frame[::f, ::f]), mask=np.asarray(mask[::f, ::f]) > 0,
                        labels=None if labels is None else np.asarray(labels[::f, ::f]),
                        style=options.overlay_style, colour=options.overlay_colour,
                        black=options.legacy_black, white=options.legacy_white)


def postprocess_in_memory(frames, prob4, paths, layout, calibration, options):
    """Whole-frame post-processing; writes the mask, labels and overlay files of `paths`.

    Args:
        frames: the input frames (T, H, W, C) (for the overlay).
        prob4: probabilities (T, H, W, K).
        paths: kind -> output path (`outputs.output_paths`).
        layout, calibration: `outputs.FrameLayout` and the input's calibration.
        options: `batch.InferenceOptions`.

    Returns:
        dict kind -> written path.
    """
    num_frames, height, width = frames.shape[:3]
    masks = np.zeros((num_frames, height, width), bool)
    labels = overlays = None
    for t in range(num_frames):
        _, _, mask, lab = postprocess(prob4[t], options.postprocess,
                                      run_threshold=options.run_threshold)
        masks[t] = mask
        if lab is not None and "labels" in paths:
            labels = labels if labels is not None else np.zeros(masks.shape, lab.dtype)
            if lab.dtype.itemsize > labels.dtype.itemsize:
                labels = labels.astype(lab.dtype)
            labels[t] = lab
        if "overlay" in paths:
            rgb = _overlay(frames[t], mask, lab, options)
            overlays = overlays if overlays is not None else np.zeros((num_frames,) + rgb.shape, np.uint8)
            overlays[t] = rgb
    written = {}
    if "mask" in paths:
        written["mask"] = out_files.write_mask(paths["mask"], masks, layout, calibration)
    if "labels" in paths:
        if labels is None:
            labels = np.zeros(masks.shape, np.uint16)
            _warn_no_instances(paths)
        written["labels"] = out_files.write_labels(paths["labels"], labels, layout, calibration)
    if "overlay" in paths:
        written["overlay"] = out_files.write_overlay(paths["overlay"], overlays, layout, calibration)
    return written


def _warn_no_instances(paths):
    logger.warning("instance_method is 'none': '%s' holds no instances.", paths["labels"].name)


def postprocess_streamed(frames, prob4, paths, layout, calibration, options):
    """Chunked post-processing into memory-mapped mask and label TIFFs (bounded memory).

    Same arguments and result as `postprocess_in_memory`; the files are equal.
    """
    if not {"mask", "labels", "overlay"} & set(paths):
        return {}
    num_frames, height, width = frames.shape[:3]
    shape = (num_frames, height, width) if layout.is_stack else (height, width)
    axes = layout.axes()
    kwargs = calibration_kwargs(calibration)
    scratch = paths["mask"] if "mask" in paths else paths.get("labels", paths.get("overlay"))
    mask_path = paths.get("mask", scratch.with_name(f".{scratch.stem}_mask_scratch.tif"))
    files = {"mask": create_output_tiff(mask_path, shape, np.uint8, axes, **kwargs)}
    overlays = []
    try:
        masks = files["mask"].array if layout.is_stack else files["mask"].array[None]
        for t in range(num_frames):
            labels_view = {}

            def labels_out(count, t=t):
                if "labels" not in files:
                    dtype = np.uint16 if count <= 65535 else np.float32
                    files["labels"] = create_output_tiff(paths["labels"], shape, dtype, axes,
                                                         display_range=(0, count), **kwargs)
                out = files["labels"].array if layout.is_stack else files["labels"].array[None]
                if count > 65535 and out.dtype == np.uint16:
                    raise ValueError(f"Frame {t} has {count} objects, more than the 65535 the "
                                     "label stack holds. To fix, segment the frames separately.")
                labels_view["array"] = out[t]
                return out[t]

            def release():
                for item in (prob4, masks, labels_view.get("array")):
                    if item is not None:
                        _release_mapped_pages(item)

            postprocess_chunked(prob4[t], options.postprocess, mask_out=masks[t],
                                labels_out=labels_out if "labels" in paths else None,
                                run_threshold=options.run_threshold, chunk=options.chunk,
                                after_chunk=release)
            if "overlay" in paths:
                overlays.append(_overlay(frames[t], masks[t], labels_view.get("array"), options))
            release()
        if "labels" in paths and "labels" not in files:
            _warn_no_instances(paths)
            files["labels"] = create_output_tiff(paths["labels"], shape, np.uint16, axes, **kwargs)
        written = {}
        if "overlay" in paths:
            written["overlay"] = out_files.write_overlay(paths["overlay"], np.stack(overlays),
                                                         layout, calibration)
        for kind in ("mask", "labels"):
            if kind in files and kind in paths:
                written[kind] = files[kind].commit()
        return written
    finally:
        for kind, handle in files.items():
            if not handle.committed:
                handle.discard()
