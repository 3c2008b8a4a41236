"""Frame-by-frame reading of compressed TIFF stacks (bounded memory where memmap is impossible)."""

import numpy as np
import tifffile

from dl_suite.io.axes import FRAME_LETTERS, to_tyxc


class TiffFrames:
    """A read-only (T, Y, X, C) array-like over a TIFF whose pages are its frames.

    Indexing decodes only the pages asked for: `frames[t]` is one (Y, X, C) numpy frame,
    `frames[a:b, ...]` stacks a few. The file stays open until `close()`.

    Args:
        path: the TIFF.
        axes: resolved axes of series 0 (see `dl_suite.io.axes.resolve_axes`); the leading
            (non-page) letters must all be frame letters.
    """

    def __init__(self, path, axes):
        self._tif = tifffile.TiffFile(path)
        series = self._tif.series[0]
        page_ndim = len(series.keyframe.shape)
        self._pages = series.pages
        self._page_axes = axes[-page_ndim:]
        probe = np.lib.stride_tricks.as_strided(
            np.zeros(1, series.dtype), shape=series.keyframe.shape,
            strides=(0,) * page_ndim)
        frame = to_tyxc(probe, self._page_axes)
        self.shape = (len(self._pages),) + tuple(frame.shape[1:])
        self.dtype = np.dtype(series.dtype)
        self.ndim = 4
        self.size = int(np.prod(self.shape))

    def __len__(self):
        return self.shape[0]

    def _frame(self, index):
        page = self._pages[index].asarray()
        return to_tyxc(page, self._page_axes)[0]

    def __getitem__(self, key):
        key = key if isinstance(key, tuple) else (key,)
        first, rest = key[0], key[1:]
        if isinstance(first, (int, np.integer)):
            return self._frame(int(first) % self.shape[0])[rest]
        if isinstance(first, slice):
            frames = [self._frame(i)[rest] for i in range(*first.indices(self.shape[0]))]
            return np.stack(frames) if frames else np.empty((0,) + self.shape[1:], self.dtype)[rest]
        raise TypeError(f"TiffFrames takes an int or a slice first, got {first!r}.")

    def __array__(self, dtype=None, copy=None):
        array = self[:]
        return array.astype(dtype) if dtype is not None else array

    def close(self):
        self._tif.close()

    def __del__(self):
        try:
            self._tif.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass


def pages_are_frames(tif, axes):
    """True when series 0 of an open TiffFile has one page per frame (see `TiffFrames`)."""
    series = tif.series[0]
    page_ndim = len(series.keyframe.shape)
    if len(axes) != len(series.shape) or len(axes) <= page_ndim:
        return False
    return (
        tuple(series.shape[-page_ndim:]) == tuple(series.keyframe.shape)
        and len(series.pages) == int(np.prod(series.shape[:-page_ndim], dtype=np.int64))
        and all(a in FRAME_LETTERS for a in axes[:-page_ndim])
        and "Y" in axes[-page_ndim:] and "X" in axes[-page_ndim:]
        and all(page is not None for page in series.pages)
    )
