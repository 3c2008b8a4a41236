"""Images larger than memory: memory-mapped TIFF input and tile-by-tile memory-mapped output.

`open_image_lazy` maps an uncompressed TIFF (no copy, pages are read as tiles touch them) and
falls back to reading the file. `OutputTiff` creates an ImageJ hyperstack as a hidden temp file,
exposes it as a writable memmap, and renames it into place only on `commit()`, so an
interrupted run never leaves a half-written file under the final name.
"""

import logging
import os
from pathlib import Path

import numpy as np
import tifffile

from dl_suite.errors import DataError
from dl_suite.io.images import TIFF_SUFFIXES, read_image
from dl_suite.io.imagej import (
    CLASSIC_TIFF_LIMIT,
    imagej_kwargs,
    imagej_layout,
    temp_path_for,
)

logger = logging.getLogger(__name__)


def open_image_lazy(path):
    """Opens an image without loading it when possible.

    Uncompressed, contiguous TIFFs are returned as a read-only `numpy.memmap`; other files
    (compressed or tiled TIFF, PNG, JPEG) are read into memory with `read_image`.

    Returns:
        array-like (numpy array or memmap) with the image's native shape and dtype.

    Raises:
        DataError: missing or unreadable file.
    """
    path = Path(path)
    if path.suffix.lower() in TIFF_SUFFIXES and path.is_file():
        try:
            return tifffile.memmap(path, mode="r")
        except Exception as exc:  # noqa: BLE001 - tifffile raises ValueError/OSError variants
            logger.debug("'%s' cannot be memory-mapped (%s); reading it into memory.", path, exc)
    return read_image(path)


class OutputTiff:
    """A TIFF written in place through a memmap and renamed into its final name on commit.

    Args:
        path: final file name (.tif).
        shape: shape of the data in `axes` order (e.g. (H, W, K) with axes 'YXC').
        dtype: uint8, uint16 or float32 (ImageJ types).
        axes: one letter per dimension from T, Z, C, Y, X (any order; stored as TZCYX).
        **calibration: pixel_size, unit, z_spacing, frame_interval, time_unit (see
            `dl_suite.io.imagej.imagej_kwargs`).

    Use as a context manager: the file is committed on success and deleted on an exception.
    `array` is a writable view in the caller's axis order.
    """

    def __init__(self, path, shape, dtype, axes, **calibration):
        self.path = Path(path)
        dtype = np.dtype(dtype)
        if dtype not in (np.uint8, np.uint16, np.float32):
            raise ValueError(
                f"Received dtype={dtype} for '{self.path.name}'; ImageJ TIFFs hold uint8, uint16 "
                "or float32. To fix, convert the output to one of these."
            )
        probe = np.lib.stride_tricks.as_strided(np.zeros(1, dtype), shape=shape, strides=(0,) * len(shape))
        stored, order = imagej_layout(probe, axes)
        nbytes = int(np.prod(stored.shape)) * dtype.itemsize
        if nbytes > CLASSIC_TIFF_LIMIT:
            # ImageJ cannot read BigTIFF: keep the data, say what Fiji users must do.
            logger.warning(
                "'%s' is %.1f GiB, over the 4 GiB ImageJ limit: writing a BigTIFF (open it in "
                "Fiji with Bio-Formats).", self.path.name, nbytes / 2**30,
            )
            kwargs = {"bigtiff": True, "photometric": "minisblack", "metadata": {"axes": order}}
        else:
            kwargs = imagej_kwargs(order, **calibration)
        self.tmp = temp_path_for(self.path)
        self._memmap = tifffile.memmap(self.tmp, shape=stored.shape, dtype=dtype, **kwargs)
        inverse = [order.index(a) for a in axes.upper()]
        self.array = np.transpose(self._memmap, inverse)
        self.committed = False

    def commit(self):
        """Flushes the data and renames the temp file to `path` (atomic)."""
        self._memmap.flush()
        self.array = None
        self._release()
        os.replace(self.tmp, self.path)
        self.committed = True
        return self.path

    def discard(self):
        """Deletes the temp file (after an error)."""
        self.array = None
        self._release()
        if self.tmp.exists():
            self.tmp.unlink()

    def _release(self):
        mm = getattr(self._memmap, "_mmap", None)
        self._memmap = None
        if mm is not None:
            try:
                mm.close()
            except BufferError:  # a view is still alive somewhere; the GC will close it
                pass

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None and not self.committed:
            self.commit()
        elif exc_type is not None:
            self.discard()
        return False


def create_output_tiff(path, shape, dtype, axes, **calibration):
    """Creates an `OutputTiff` (see its docstring); write into `.array`, then `.commit()`."""
    try:
        return OutputTiff(path, shape, dtype, axes, **calibration)
    except OSError as exc:
        raise DataError(f"Cannot create '{path}': {exc}. Check free disk space and permissions.") from exc
