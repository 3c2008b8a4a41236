"""Reading and writing 2D images and masks: TIFF (tifffile), PNG and JPEG (OpenCV).

This package is the only place in dl-suite that touches image files.
"""

import os
import tempfile
from pathlib import Path

import cv2
import numpy as np
import tifffile

from dl_suite.errors import DataError

IMAGE_SUFFIXES = (".tif", ".tiff", ".png", ".jpg", ".jpeg", ".bmp")
TIFF_SUFFIXES = (".tif", ".tiff")
JPEG_SUFFIXES = (".jpg", ".jpeg")


def is_image_file(path):
    """True if `path` has a suffix dl-suite can read."""
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def read_image(path):
    """Reads an image file as a numpy array.

    TIFF keeps every page (a stack is (N, H, W[, C])); PNG/JPEG are read unchanged
    (8 or 16 bit), colour converted from OpenCV's BGR to RGB.

    Raises:
        DataError: the file is missing, has an unknown suffix, or cannot be decoded.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"Image file not found: '{path}'. Check the path in your config.")
    suffix = path.suffix.lower()
    if suffix not in IMAGE_SUFFIXES:
        raise DataError(
            f"Cannot read '{path}': unknown file type '{suffix}'. "
            f"Supported: {', '.join(IMAGE_SUFFIXES)}."
        )
    try:
        if suffix in TIFF_SUFFIXES:
            array = tifffile.imread(path)
        else:
            array = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
            if array is None:
                raise ValueError("OpenCV could not decode it")
            if array.ndim == 3 and array.shape[-1] == 3:
                array = cv2.cvtColor(array, cv2.COLOR_BGR2RGB)
            elif array.ndim == 3 and array.shape[-1] == 4:
                array = cv2.cvtColor(array, cv2.COLOR_BGRA2RGBA)
    except DataError:
        raise
    except Exception as exc:  # any decoder failure means a corrupt or truncated file
        raise DataError(f"Cannot read image '{path}': the file looks corrupt ({exc}).") from exc
    array = np.asarray(array)
    if array.size == 0 or array.dtype == object:
        raise DataError(f"Cannot read image '{path}': the file looks corrupt (no pixel data).")
    return array


def read_mask(path, threshold=128):
    """Reads a mask. JPEG masks carry compression noise, so they are binarised at `threshold`.

    Returns:
        For JPEG: uint8 array of 0/1. Otherwise the stored label values (binary masks stored as
        0/255 are mapped to 0/1; label images are kept as they are). Colour masks are
        reduced to one channel (max over channels).
    """
    array = read_image(path)
    if array.ndim == 3 and array.shape[-1] in (3, 4):
        array = array[..., :3].max(axis=-1)
    if Path(path).suffix.lower() in JPEG_SUFFIXES:
        return (array >= threshold).astype(np.uint8)
    values = np.unique(array)
    if values.size <= 2 and values.max(initial=0) > 1 and values.min(initial=0) == 0:
        return (array > 0).astype(np.uint8)
    return array


def new_temp_file(path, suffix=None):
    """A fresh hidden temp file beside `path` (so `os.replace` onto `path` is atomic), with the
    permissions a plain new file gets (mkstemp's are owner-only)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix if suffix is None
                               else suffix, dir=path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    return Path(tmp)


def _atomic_target(path):
    return Path(path), new_temp_file(path)


def write_image(path, array, *, imagej=False, metadata=None, resolution=None):
    """Writes an image atomically (temp file + rename); the format follows the suffix.

    TIFF keeps the dtype (float32 probability maps, uint16 labels); PNG and JPEG take uint8 or
    uint16 (PNG) and RGB colour order.
    """
    path, tmp = _atomic_target(path)
    array = np.asarray(array)
    suffix = path.suffix.lower()
    try:
        if suffix in TIFF_SUFFIXES:
            kwargs = {"imagej": imagej, "metadata": metadata}
            if not imagej:
                # Say what the pixels are, so the file reads back with the same axes: colour
                # only for (..., 3|4) 8/16-bit data, never tifffile's guess of planar RGB.
                colour = array.ndim >= 3 and array.shape[-1] in (3, 4) and array.dtype in (np.uint8, np.uint16)
                kwargs["photometric"] = "rgb" if colour else "minisblack"
            if resolution is not None:
                kwargs["resolution"] = resolution
            tifffile.imwrite(tmp, array, **kwargs)
        elif suffix in (".png", ".jpg", ".jpeg", ".bmp"):
            out = array
            if out.dtype == bool:
                out = out.astype(np.uint8) * 255
            if out.ndim == 3 and out.shape[-1] == 3:
                out = cv2.cvtColor(out, cv2.COLOR_RGB2BGR)
            if not cv2.imwrite(str(tmp), out):
                raise DataError(f"OpenCV could not write '{path}' (dtype {array.dtype}).")
        else:
            raise DataError(f"Cannot write '{path}': unknown suffix '{suffix}'.")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def save_figure(figure, path, dpi=100):
    """Saves a matplotlib figure atomically."""
    path, tmp = _atomic_target(path)
    try:
        figure.savefig(tmp, dpi=dpi, bbox_inches="tight", format=path.suffix.lstrip(".") or "png")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def write_text(path, text):
    """Writes a text file atomically (JSON, CSV, Markdown)."""
    path, tmp = _atomic_target(path)
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path
