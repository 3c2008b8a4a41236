"""Reading videos for training: multi-page TIFF / ImageJ hyperstacks and the frame-to-video CSV.

`read_video` returns (T, Y, X, C) using the axes tifffile finds in the file (ImageJ hyperstack,
OME-TIFF); Z, pages (I, Q) and T all count as frames. It is the small reader of the video
training path; the contract reader of `dl_suite.io` ((T, Y, X, C) + axes + calibration for
every image kind) should replace it once merged.
"""

import csv
from pathlib import Path

import numpy as np
import tifffile

from dl_suite.errors import DataError
from dl_suite.io.images import TIFF_SUFFIXES, read_image

_FRAME_AXES = "TZIQ"
_CHANNEL_AXES = "CS"


def to_tyxc(array, axes):
    """Reorders an array with tifffile axes letters to (T, Y, X, C) (T and C may be 1).

    Raises:
        DataError: the axes hold no Y and X, or an axis dl-suite does not understand.
    """
    array, axes = np.asarray(array), str(axes).upper()
    if len(axes) != array.ndim or "Y" not in axes or "X" not in axes:
        raise DataError(f"Cannot read axes '{axes}' for an array of shape {array.shape}; "
                        "expected Y and X plus optional T/Z (frames) and C/S (channels).")
    unknown = set(axes) - set(_FRAME_AXES + _CHANNEL_AXES + "YX")
    if unknown:
        raise DataError(f"Axes '{axes}' hold {sorted(unknown)}, which dl-suite cannot map to "
                        "frames or channels; save the video as a TYX or TYXC hyperstack.")
    frames = [i for i, a in enumerate(axes) if a in _FRAME_AXES]
    channels = [i for i, a in enumerate(axes) if a in _CHANNEL_AXES]
    order = frames + [axes.index("Y"), axes.index("X")] + channels
    array = np.transpose(array, order)
    shape = array.shape
    t = int(np.prod(shape[: len(frames)])) if frames else 1
    c = int(np.prod(shape[len(frames) + 2:])) if channels else 1
    return array.reshape(t, shape[len(frames)], shape[len(frames) + 1], c)


def read_video(path):
    """Reads a video file as (T, Y, X, C); a 2-D image is one frame.

    Raises:
        DataError: missing or unreadable file, or axes that cannot be mapped.
    """
    path = Path(path)
    if path.suffix.lower() not in TIFF_SUFFIXES:
        image = read_image(path)
        return image[None, ..., None] if image.ndim == 2 else image[None]
    if not path.is_file():
        raise DataError(f"Video file not found: '{path}'. Check the path in your config.")
    try:
        with tifffile.TiffFile(path) as tif:
            series = tif.series[0]
            array, axes = series.asarray(), series.axes
    except Exception as exc:  # any decoder failure means a corrupt or truncated file
        raise DataError(f"Cannot read video '{path}': the file looks corrupt ({exc}).") from exc
    if array.ndim == 3 and axes[-1] in _CHANNEL_AXES and array.shape[-1] in (3, 4):
        return array[None]  # one RGB(A) frame
    return to_tyxc(array, axes)


def read_videos_csv(path):
    """Reads the legacy `videos2im_relation.csv` (`Video; Frame` header, `;` separated).

    Returns:
        list of (video name, frame file name) in file order.

    Raises:
        DataError: the file is missing or a row does not have two fields.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"Frame-to-video CSV not found: '{path}'. Check PATH2VIDEOS / videos_csv.")
    text = path.read_text(encoding="utf-8-sig")
    delimiter = ";" if ";" in text.splitlines()[0] else ","
    rows = []
    for number, row in enumerate(csv.reader(text.splitlines(), delimiter=delimiter), 1):
        fields = [f.strip() for f in row]
        if not any(fields) or (number == 1 and fields[:2] and fields[0].lower() == "video"):
            continue
        if len(fields) < 2 or not fields[0] or not fields[1]:
            raise DataError(f"'{path}' row {number} reads {row!r}; expected 'video;frame file' "
                            "(e.g. 'cell_video_01;raw_001.tif').")
        rows.append((fields[0], Path(fields[1]).name))
    return rows
