"""Label videos (T, Y, X): reading with checks, and ImageJ hyperstacks TrackMate opens as T frames.

A label video is read from one TIFF (any frame axis letter; a time-lapse mislabelled as slices or
channels is read as frames, with a warning) or from a folder of one 2-D TIFF per frame (sorted by
name, e.g. CTC `mask000.tif ...`). Written files follow INTEROP.md section 2: uint16, explicit
axes `TYX` (labels) or `TCYX` (raw + labels), pixel size and frame interval kept.
"""

import logging
from pathlib import Path

import numpy as np
import tifffile

from dl_suite.errors import DataError
from dl_suite.io.imagej import calibration_kwargs, read_calibration, write_imagej_tiff

logger = logging.getLogger(__name__)

MAX_LABEL_VALUE = 2**24  # above this, labels are renumbered per frame (regionprops' lookups)


def _frame_files(folder):
    files = sorted(p for p in Path(folder).iterdir()
                   if p.suffix.lower() in (".tif", ".tiff") and not p.name.startswith("."))
    if not files:
        raise DataError(f"'{folder}' holds no .tif files. Expected one label image per frame "
                        "(e.g. mask000.tif, mask001.tif, ...) or pass a single TIFF video.")
    return files


def _stack_frames(files):
    frames = [np.asarray(tifffile.imread(p)) for p in files]
    shapes = {f.shape for f in frames}
    if len(shapes) > 1:
        listing = ", ".join(f"{p.name} {f.shape}" for p, f in zip(files, frames))
        raise DataError(f"The frames have different sizes ({listing}). Every frame of a video must "
                        "have the same height and width; re-export them from one acquisition.")
    if frames[0].ndim != 2:
        raise DataError(f"'{files[0]}' has shape {frames[0].shape}; expected one 2-D image per frame.")
    return np.stack(frames)


def _as_tyx(array, axes, source, what):
    """Brings a TIFF series to (T, Y, X), treating a single non-YX axis as time."""
    axes = (axes or "").upper()
    if len(axes) != array.ndim:
        axes = "TYX"[-array.ndim:] if array.ndim <= 3 else ""
    keep = [i for i, a in enumerate(axes) if a not in "YX" and array.shape[i] > 1]
    if array.ndim < 2 or not axes or len(keep) > 1 or "S" in axes:
        raise DataError(f"'{source}' has shape {array.shape} (axes '{axes or '?'}'); expected a "
                        f"{what} video with axes TYX (frames, height, width).")
    letters = "".join(axes[i] for i in keep)
    if letters and letters != "T":
        logger.warning("'%s' stores its %d frames as '%s' (slices/channels), not as time frames: "
                       "reading them as time. Fix the file in Fiji with Image > Properties.",
                       Path(source).name, array.shape[keep[0]], letters)
    squeeze = tuple(i for i, a in enumerate(axes) if a not in "YX" and i not in keep)
    array = np.squeeze(array, axis=squeeze) if squeeze else array
    return array if array.ndim == 3 else array[np.newaxis]


def read_video(path, what="image"):
    """Reads an image video (T, Y, X) and its calibration (a TIFF or a folder of frames).

    Raises:
        DataError: missing path, frames of different sizes, unsupported layout.
    """
    path = Path(path)
    if path.is_dir():
        files = _frame_files(path)
        return _stack_frames(files), read_calibration(files[0])
    if not path.is_file():
        raise DataError(f"{what.capitalize()} video not found: '{path}'. Check the path.")
    try:
        with tifffile.TiffFile(path) as tif:
            series = tif.series[0]
            array, axes = series.asarray(), series.axes
    except Exception as exc:  # a corrupt or non-TIFF file
        raise DataError(f"Cannot read '{path}' as a TIFF video ({exc}).") from exc
    return _as_tyx(np.asarray(array), axes, path, what), read_calibration(path)


def check_label_video(labels, source="The label video"):
    """Checks a label video and returns it as an integer (T, Y, X) array.

    Raises:
        DataError: not 3-D, non-integer or negative values, or no object in any frame.
    """
    labels = np.asarray(labels)
    if labels.ndim != 3:
        raise DataError(f"{source} has shape {labels.shape}; expected (frames, height, width).")
    if labels.dtype == bool or not np.issubdtype(labels.dtype, np.number):
        raise DataError(f"{source} has dtype {labels.dtype}; expected integer labels (0 = background).")
    if not np.issubdtype(labels.dtype, np.integer):
        bad = labels != np.round(labels)
        if bad.any():
            t = int(np.argwhere(bad)[0][0])
            raise DataError(
                f"{source} holds non-integer values (e.g. {float(labels[bad][0]):g} in frame {t}); a label "
                "video must hold whole numbers (0 = background, 1, 2, ... = objects). Is this a "
                "probability map? Segment it first, or pass the *_labels.tif written by infer.")
    if labels.size and labels.min() < 0:
        raise DataError(f"{source} holds negative values (min {labels.min()}); labels must be >= 0.")
    if labels.size and labels.max() > 2**31 - 1:
        raise DataError(f"{source} holds labels above 2**31 - 1; relabel the objects from 1.")
    labels = labels.astype(np.int32)
    if labels.max() > MAX_LABEL_VALUE:
        from skimage.segmentation import relabel_sequential

        labels = np.stack([relabel_sequential(frame)[0] for frame in labels]).astype(np.int32)
        logger.warning("%s holds label values above %d: objects renumbered 1..n in each frame "
                       "(measuring tools index arrays by label value).", source, MAX_LABEL_VALUE)
    empty = [t for t in range(labels.shape[0]) if not labels[t].any()]
    if len(empty) == labels.shape[0]:
        raise DataError(f"{source} holds no objects in any frame (all values are 0).")
    if empty:
        logger.warning("%s has no object in frame(s) %s: tracks break there (or are gap-closed), "
                       "and CTC's Java evaluator rejects empty result frames.", source,
                       ", ".join(map(str, empty)))
    return labels


def read_label_video(path):
    """Reads and checks a label video (see `read_video`, `check_label_video`).

    Returns:
        (int32 array (T, Y, X), Calibration).
    """
    array, calibration = read_video(path, what="label")
    return check_label_video(array, f"Label video '{Path(path).name}'"), calibration


def write_label_hyperstack(path, labels, calibration=None):
    """Writes a label video as an ImageJ hyperstack, axes TYX, uint16 (atomic).

    TrackMate's label-image detector then reads T frames (INTEROP.md 2.1, 2.2).
    """
    return write_imagej_tiff(path, np.asarray(labels), "TYX", labels=True, **calibration_kwargs(calibration))


def write_raw_labels_hyperstack(path, image, labels, calibration=None):
    """Writes raw video + labels as a 2-channel TCYX hyperstack (channel 2 = labels), uint16.

    Raw values are rescaled to 0..65535 when they do not fit uint16 exactly, because both
    channels of an ImageJ hyperstack share one dtype.
    """
    image, labels = np.asarray(image), np.asarray(labels)
    if image.shape != labels.shape:
        raise DataError(f"The image video {image.shape} and the label video {labels.shape} differ "
                        "in size; they must have the same frames, height and width.")
    if labels.max(initial=0) > 65535:
        raise DataError("More than 65535 labels cannot share a uint16 hyperstack with the raw image.")
    integral = np.issubdtype(image.dtype, np.integer) or np.array_equal(image, np.round(image))
    if integral and image.min(initial=0) >= 0 and image.max(initial=0) <= 65535:
        raw = image.astype(np.uint16)
    else:
        lo, hi = float(image.min()), float(image.max())
        raw = np.round((image - lo) / ((hi - lo) or 1.0) * 65535).astype(np.uint16)
        logger.info("Raw video rescaled from [%g, %g] to uint16 for the 2-channel hyperstack.", lo, hi)
    stack = np.stack([raw, labels.astype(np.uint16)], axis=1)
    return write_imagej_tiff(path, stack, "TCYX", **calibration_kwargs(calibration))
