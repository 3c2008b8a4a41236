"""The image contract: every image file is read as (T, Y, X, C) with its axes and calibration.

    data = read_image_data("movie.tif")            # eager: numpy array in memory
    data = open_image_data("huge.tif")             # lazy: memory-mapped view when possible
    data.array.shape   # (T, Y, X, C): frames (time, or z slices), height, width, channels
    data.axes          # the stored array's axes, e.g. "TZCYX", "YXS", "YX", "TYX"
    data.calibration   # `imagej.Calibration` (pixel size, unit, frame interval) with .axes
    data.frame_letter  # "T", or "Z" for a z-stack without time (outputs keep it)
    masks = read_mask_data("movie_mask.tif")       # (T, Y, X) integer labels

Axes come from the file (ImageJ hyperstack, OME-TIFF, tifffile metadata), else from the
`axes` argument (the config's `[dataset] axes`), else from the rules in `dl_suite.io.axes`.
The override wins over the file when given. Convert channels to a model's input with
`dl_suite.data.preprocess.to_model_channels`.
"""

import logging
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import tifffile

from dl_suite.errors import DataError
from dl_suite.io.axes import frame_letter, resolve_axes, to_tyxc
from dl_suite.io.imagej import Calibration, calibration_from_tiff
from dl_suite.io.images import JPEG_SUFFIXES, TIFF_SUFFIXES, read_image
from dl_suite.io.tiff_frames import TiffFrames, pages_are_frames

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImageData:
    """One image file as (T, Y, X, C).

    Attributes:
        array: (T, Y, X, C) numpy array; from `open_image_data` possibly a read-only memmap
            view or a `TiffFrames` reader (both support `array[t]`, slices, `.shape`,
            `.dtype` and `np.asarray`).
        axes: axes of the stored array (letters T, Z, Y, X, C, S), as read or overridden.
        calibration: `Calibration` of the file (empty for PNG/JPEG); its `axes` equals `axes`.
        path: the file.
    """

    array: object
    axes: str
    calibration: Calibration
    path: Path = None

    @property
    def num_frames(self):
        return int(self.array.shape[0])

    @property
    def num_channels(self):
        return int(self.array.shape[-1])

    @property
    def frame_letter(self):
        """'Z' when the frames are z slices of a stack without time, else 'T'."""
        return frame_letter(self.axes)


def _stored(path, lazy, override, strict=True):
    """(stored array, resolved axes, Calibration) of an image file.

    With `lazy`, the array is a read-only memmap where tifffile can map the file, else a
    `TiffFrames` reader when the TIFF's pages are its frames, else the decoded pixels.
    """
    path = Path(path)
    if path.suffix.lower() not in TIFF_SUFFIXES or not path.is_file():
        array = read_image(path)
        resolved = resolve_axes(array.shape, None, override, str(path), strict)
        return array, resolved, Calibration()
    array = None
    if lazy:
        try:
            array = tifffile.memmap(path, mode="r")
        except Exception as exc:  # noqa: BLE001 - compressed/tiled TIFFs cannot be mapped
            logger.debug("'%s' cannot be memory-mapped (%s).", path, exc)
    try:
        with tifffile.TiffFile(path) as tif:
            if not tif.series:
                raise ValueError("the TIFF holds no image data")
            series = tif.series[0]
            file_axes, shape = series.axes, tuple(series.shape)
            calibration = calibration_from_tiff(tif)
            resolved = resolve_axes(shape, file_axes, override, str(path), strict)
            if array is None and lazy and len(series.pages) > 1 and pages_are_frames(tif, resolved):
                return TiffFrames(path, resolved), resolved, calibration
            if array is None:
                array = series.asarray()
    except DataError:
        raise
    except Exception as exc:  # tifffile raises many types for damaged files
        raise DataError(f"Cannot read image '{path}': the file looks corrupt ({exc}).") from exc
    if tuple(array.shape) != shape and int(np.prod(array.shape)) == int(np.prod(shape)):
        array = array.reshape(shape)
    if tuple(array.shape) != shape:  # the pixels do not follow series 0's axes: use the rules
        resolved = resolve_axes(array.shape, None, override, str(path), strict)
    return array, resolved, calibration


def _image_data(path, axes, lazy, strict=True):
    path = Path(path)
    stored, resolved, calibration = _stored(path, lazy, axes, strict)
    array = stored if isinstance(stored, TiffFrames) else to_tyxc(stored, resolved)
    if array.size == 0:
        raise DataError(f"Cannot read image '{path}': it has no pixels (shape {stored.shape}).")
    return ImageData(array, resolved, replace(calibration, axes=resolved), path)


def read_image_data(path, axes=None):
    """Reads an image file into memory as `ImageData` with a (T, Y, X, C) array.

    Args:
        path: TIFF (any ImageJ/OME hyperstack), PNG, JPEG or BMP file.
        axes: optional override of the stored array's axes (the config's `[dataset] axes`),
            one letter per dimension from T, Z, Y, X, C, S.

    Returns:
        ImageData (`array` keeps the file's dtype).

    Raises:
        DataError: missing or corrupt file, bad `axes`, or a layout the rules cannot name.
    """
    data = _image_data(path, axes, lazy=False)
    return replace(data, array=np.ascontiguousarray(data.array))


def open_image_data(path, axes=None):
    """Like `read_image_data` but keeps memory bounded for large TIFFs.

    Uncompressed TIFFs give a read-only memory-mapped view; compressed TIFF stacks whose pages
    are frames give a `TiffFrames` reader that decodes a frame when indexed. Either way, index
    one frame at a time (`data.array[t]`). Other files (PNG, JPEG, compressed hyperstacks with
    channel pages) are read into memory.
    """
    return _image_data(path, axes, lazy=True)


def read_mask_data(path, threshold=128, axes=None):
    """Reads a mask file as (T, Y, X) integers with the same axes rules as images.

    JPEG masks are binarised at `threshold`; masks holding only 0 and one other value are
    mapped to 0/1; label images are kept. Colour masks (C = 3 or 4) are reduced to the maximum
    over R, G, B.

    Args:
        path: mask file.
        threshold: grey value that binarises JPEG masks.
        axes: the images' override (`[dataset] axes`); used for the mask only when it has
            one letter per dimension of the stored mask (so "TCYX" images can have masks
            read by the rules).

    Returns:
        numpy array (T, Y, X).

    Raises:
        DataError: a mask with a channel count other than 1, 3 or 4.
    """
    data = _image_data(path, axes, lazy=False, strict=False)
    array = np.asarray(data.array)
    if data.num_channels == 1:
        array = array[..., 0]
    elif data.num_channels in (3, 4):
        array = array[..., :3].max(axis=-1)
    else:
        raise DataError(
            f"Mask '{path}' has {data.num_channels} channels (axes '{data.axes}'); a mask must "
            "be one label image per frame (or an RGB image). Save one channel per mask file."
        )
    if Path(path).suffix.lower() in JPEG_SUFFIXES:
        return (array >= threshold).astype(np.uint8)
    values = np.unique(array)
    if values.size <= 2 and values.max(initial=0) > 1 and values.min(initial=0) == 0:
        array = (array > 0).astype(np.uint8)
    return array
