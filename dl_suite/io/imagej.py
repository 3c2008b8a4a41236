"""ImageJ hyperstack TIFFs (see shared INTEROP.md sections 2 and 7) with pixel-size calibration.

Fiji and TrackMate read dimensions from the ImageJ description only when C*Z*T equals the page
count, and only uint8, uint16 and float32 are ImageJ types; so every TIFF written here gets
explicit axes in ImageJ order (TZCYX[S]), a legal dtype, `resolution` = 1/pixel size and `unit`.
"""

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tifffile

from dl_suite.errors import DataError

logger = logging.getLogger(__name__)

IMAGEJ_ORDER = "TZCYXS"
IMAGEJ_DTYPES = (np.uint8, np.uint16, np.float32)
CLASSIC_TIFF_LIMIT = 2**32 - 2**25  # ImageJ cannot open BigTIFF; keep room for tags


@dataclass(frozen=True)
class Calibration:
    """Physical calibration of an image; None where unknown."""

    pixel_size: float = None  # x pixel width in `unit`
    pixel_height: float = None
    unit: str = None
    z_spacing: float = None
    frame_interval: float = None
    time_unit: str = None
    axes: str = None


def temp_path_for(path):
    """A fresh hidden temp file beside `path` (so `os.replace` is atomic)."""
    from dl_suite.io.images import new_temp_file

    return new_temp_file(path, suffix=".part")


def imagej_layout(array, axes):
    """Transposes `array` with `axes` (any order of T, Z, C, Y, X, S) to ImageJ order.

    Returns:
        (array view, axes string in TZCYX(S) order).

    Raises:
        ValueError: axes that do not match the array or repeat/unknown letters.
    """
    axes = axes.upper()
    if len(axes) != array.ndim or len(set(axes)) != len(axes) or set(axes) - set(IMAGEJ_ORDER):
        raise ValueError(
            f"Received axes='{axes}' for an array of shape {array.shape}; expected one letter "
            f"per dimension, each once, from '{IMAGEJ_ORDER}' (e.g. 'YX', 'TYX', 'YXC')."
        )
    if "Y" not in axes or "X" not in axes:
        raise ValueError(f"Received axes='{axes}'; an image needs both 'Y' and 'X'.")
    target = "".join(a for a in IMAGEJ_ORDER if a in axes)
    return np.transpose(array, [axes.index(a) for a in target]), target


def imagej_dtype(array, *, labels=False):
    """Converts to an ImageJ dtype: bool -> uint8 0/255; labels -> uint16 (float32 if > 65535).

    Raises:
        DataError: labels beyond 2**24 (not exact in float32) or negative labels.
    """
    array = np.asarray(array)
    if array.dtype == bool:
        return array.astype(np.uint8) * 255
    if labels:
        top = int(array.max(initial=0))
        if array.size and int(array.min()) < 0:
            raise DataError("Label images must not contain negative values (ImageJ, TrackMate).")
        if top <= 65535:
            return array.astype(np.uint16, copy=False)
        if top > 2**24:
            raise DataError(f"{top} labels cannot be stored exactly in an ImageJ TIFF (max 2**24).")
        logger.warning("More than 65535 labels (%d): writing the label TIFF as float32.", top)
        return array.astype(np.float32)
    if array.dtype in IMAGEJ_DTYPES:
        return array
    if np.issubdtype(array.dtype, np.integer) and array.min(initial=0) >= 0 and array.max(initial=0) <= 65535:
        return array.astype(np.uint16)
    return array.astype(np.float32)


def imagej_kwargs(axes, *, pixel_size=None, unit="um", z_spacing=None, frame_interval=None,
                  time_unit=None, display_range=None):
    """Keyword arguments for `tifffile.imwrite` / `tifffile.memmap` (ImageJ hyperstack)."""
    metadata = {"axes": axes}
    kwargs = {"imagej": True, "photometric": "minisblack", "metadata": metadata}
    if pixel_size is not None:
        dy, dx = (pixel_size, pixel_size) if np.isscalar(pixel_size) else pixel_size
        kwargs["resolution"] = (1.0 / float(dx), 1.0 / float(dy))
        metadata["unit"] = unit or "um"
    if z_spacing is not None and "Z" in axes:
        metadata["spacing"] = float(z_spacing)
    if frame_interval is not None and "T" in axes:
        metadata["finterval"] = float(frame_interval)
        if time_unit and time_unit not in ("s", "sec"):
            metadata["tunit"] = time_unit
    if display_range is not None:
        metadata["min"], metadata["max"] = (float(v) for v in display_range)
    if "S" in axes:
        kwargs["photometric"] = "rgb"
    return kwargs


def write_imagej_tiff(path, array, axes, *, labels=False, pixel_size=None, unit="um",
                      z_spacing=None, frame_interval=None, time_unit=None, display_range=None):
    """Writes an ImageJ hyperstack TIFF atomically (temp file + rename).

    Args:
        path: target file (.tif).
        array: the data; its axes are named by `axes` in any order (e.g. 'YX', 'TYX', 'YXC').
        axes: one letter per dimension from T, Z, C, Y, X, S.
        labels: store as a label image (uint16, float32 beyond 65535 labels), min/max set.
        pixel_size: x (or (y, x)) pixel size in `unit`; None leaves the file uncalibrated.
        unit, z_spacing, frame_interval, time_unit: calibration (INTEROP.md 2.2).
        display_range: optional (min, max) for ImageJ's display.

    Returns:
        Path of the written file.

    Raises:
        ValueError: bad axes. DataError: data ImageJ cannot hold.
    """
    data, order = imagej_layout(np.asarray(array), axes)
    data = imagej_dtype(data, labels=labels)
    if labels and display_range is None:
        display_range = (0, int(data.max(initial=0)))
    if data.nbytes > CLASSIC_TIFF_LIMIT:
        raise DataError(
            f"Cannot write '{path}' as an ImageJ TIFF: {data.nbytes / 2**30:.1f} GiB exceeds the "
            "4 GiB limit of classic TIFF that ImageJ reads. To fix, split the stack."
        )
    kwargs = imagej_kwargs(order, pixel_size=pixel_size, unit=unit, z_spacing=z_spacing,
                           frame_interval=frame_interval, time_unit=time_unit,
                           display_range=display_range)
    path = Path(path)
    tmp = temp_path_for(path)
    try:
        tifffile.imwrite(tmp, np.ascontiguousarray(data), **kwargs)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def read_calibration(path):
    """Reads the calibration of a TIFF (ImageJ or OME); an empty `Calibration` for other files.

    Pixel size comes from XResolution/YResolution (pixels per unit) when a unit is known or the
    resolution is not the 1-pixel-per-unit default.
    """
    path = Path(path)
    if path.suffix.lower() not in (".tif", ".tiff"):
        return Calibration()
    try:
        with tifffile.TiffFile(path) as tif:
            return calibration_from_tiff(tif)
    except Exception as exc:  # corrupt file: the reader reports it when the pixels are read
        logger.debug("No calibration read from %s: %s", path, exc)
        return Calibration()


def calibration_from_tiff(tif):
    """The `Calibration` of an open `tifffile.TiffFile` (axes = tifffile's series axes)."""
    page = tif.pages[0]
    axes = tif.series[0].axes if tif.series else None
    meta = tif.imagej_metadata or {}
    unit = meta.get("unit")
    if unit in ("micron", "\\u00B5m", "\u00b5m"):
        unit = "um"
    px = py = None
    tags = page.tags
    if "XResolution" in tags and "YResolution" in tags:
        (xn, xd), (yn, yd) = tags["XResolution"].value, tags["YResolution"].value
        res_unit = int(tags["ResolutionUnit"].value) if "ResolutionUnit" in tags else 1
        if unit and xn and yn:
            px, py = xd / xn, yd / yn
        elif res_unit == 3 and xn and yn:  # pixels per centimetre (not the 72-dpi default)
            px, py, unit = xd / xn * 1e4, yd / yn * 1e4, "um"
    z_spacing, finterval, tunit = meta.get("spacing"), meta.get("finterval"), meta.get("tunit")
    if tif.is_ome:
        ome = _ome_calibration(tif.ome_metadata)
        px, py = (ome["px"], ome["py"]) if px is None and ome["px"] else (px, py)
        unit = ome["unit"] if ome["px"] and not unit else unit
        z_spacing = z_spacing or ome["z"]
        finterval, tunit = finterval or ome["t"], tunit or ome["tunit"]
    return Calibration(
        pixel_size=px, pixel_height=py, unit=unit, z_spacing=z_spacing,
        frame_interval=finterval, time_unit=tunit, axes=axes,
    )


def _ome_calibration(xml):
    """Pixel sizes, z spacing and frame interval of the first OME `Pixels` element."""
    try:
        image = tifffile.xml2dict(xml)["OME"]["Image"]
        pixels = (image[0] if isinstance(image, list) else image)["Pixels"]
    except Exception:  # noqa: BLE001 - OME-XML without the usual structure: uncalibrated
        pixels = {}

    def number(key):
        value = pixels.get(key)
        return float(value) if value is not None else None

    units = {"\u00b5m": "um", "\u03bcm": "um", "micron": "um"}
    unit = pixels.get("PhysicalSizeXUnit", "\u00b5m")
    return {
        "px": number("PhysicalSizeX"),
        "py": number("PhysicalSizeY") or number("PhysicalSizeX"),
        "unit": units.get(unit, unit),
        "z": number("PhysicalSizeZ"),
        "t": number("TimeIncrement"),
        "tunit": pixels.get("TimeIncrementUnit", "s") if "TimeIncrement" in pixels else None,
    }


def calibration_kwargs(calibration):
    """`write_imagej_tiff` keyword arguments (pixel size, unit, frame interval, z spacing)
    of a `Calibration` (None = uncalibrated)."""
    calibration = calibration or Calibration()
    kwargs = {"unit": calibration.unit or "um"}
    if calibration.pixel_size is not None:
        kwargs["pixel_size"] = (calibration.pixel_height or calibration.pixel_size,
                                calibration.pixel_size)
    if calibration.frame_interval is not None:
        kwargs["frame_interval"] = calibration.frame_interval
        kwargs["time_unit"] = calibration.time_unit
    if calibration.z_spacing is not None:
        kwargs["z_spacing"] = calibration.z_spacing
    return kwargs
