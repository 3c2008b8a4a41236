"""Seamless, memory-bounded tiled prediction: pure numpy, the predictor is passed in.

An image of any size is cut into tiles of `tile_size` pixels. Each tile carries a `halo` of
context on every side (mirror-padded at the image border) whose prediction is thrown away; the
remaining cores overlap by `overlap` pixels and are blended with a window (see `WINDOWS`), so
there are no seams. Tiles are predicted in batches and blended into a band of rows that is
flushed to `out` (a numpy array or a memory-mapped TIFF) as soon as no later tile touches it,
so memory stays bounded by a few tile rows whatever the image size.

Tile starts, the halo and the core size are multiples of the model's `input_multiple`
(2**num_pooling for a U-Net), so a translation-equivariant model sees every tile on the same
pooling grid as the whole image: with a halo of at least half the receptive field, tiled and
untiled predictions agree up to float rounding away from the image border.
"""

import logging
import math
import mmap
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

from dl_suite.inference.oom import BatchSizeController
from dl_suite.inference.tta import tta_predictor
from dl_suite.registry import Registry

logger = logging.getLogger(__name__)

WINDOWS = Registry("blending window")

DEFAULT_TILE_SIZE = 1024
DEFAULT_HALO = 32
DEFAULT_OVERLAP = 16


@WINDOWS.register("linear", aliases=("ramp",))
def linear_window(length, overlap):
    """1D window: 1 in the middle, linear ramps of `overlap` pixels at both ends (all > 0)."""
    i = np.arange(length, dtype=np.float64)
    ramp = np.minimum(i + 1, length - i) / (overlap + 1)
    return np.minimum(ramp, 1.0)


@WINDOWS.register("gaussian")
def gaussian_window(length, overlap):
    """1D Gaussian window with sigma = length / 8 (as in MONAI and nnU-Net), floored at 1e-3."""
    del overlap  # the Gaussian down-weights tile edges whatever the overlap
    i = np.arange(length, dtype=np.float64)
    sigma = max(length / 8.0, 1.0)
    window = np.exp(-0.5 * ((i - (length - 1) / 2.0) / sigma) ** 2)
    return np.maximum(window, 1e-3)


def _ceil_to(value, multiple):
    return int(math.ceil(value / multiple) * multiple)


def _pair(value, name):
    if isinstance(value, (int, np.integer)):
        return int(value), int(value)
    try:
        a, b = value
        return int(a), int(b)
    except (TypeError, ValueError):
        raise ValueError(
            f"Received `{name}={value!r}`, expected an integer or a pair [rows, columns] of "
            f"integers. To fix, set e.g. `{name} = 512` or `{name} = [512, 512]`."
        ) from None


def unet_receptive_field(num_levels, *, kernel_size=3, convs_per_level=2):
    """Theoretical receptive field (pixels) of a U-Net with `num_levels` 2x2 poolings.

    Args:
        num_levels: number of pooling steps (depth) of the encoder.
        kernel_size: convolution kernel size.
        convs_per_level: convolutions per encoder/decoder stage.

    Returns:
        int: receptive field width in pixels.
    """
    per_conv = (kernel_size - 1) * convs_per_level
    encoder = per_conv * (2**num_levels - 1) + (2**num_levels - 1)  # convs + poolings
    bottleneck = per_conv * 2**num_levels
    decoder = per_conv * (2**num_levels - 1)
    return 1 + encoder + bottleneck + decoder


def default_halo(receptive_field=None, *, input_multiple=1, max_halo=None):
    """Halo (context per side) that covers half the receptive field, on the pooling grid.

    Args:
        receptive_field: receptive field in pixels (int or pair), or None for the default
            of `DEFAULT_HALO` pixels.
        input_multiple: the halo is rounded up to a multiple of this (2**num_levels).
        max_halo: optional cap in pixels (applied before rounding), to trade exactness for speed.

    Returns:
        tuple (halo_rows, halo_cols).
    """
    if receptive_field is None:
        halo = (DEFAULT_HALO, DEFAULT_HALO)
    else:
        rf = _pair(receptive_field, "receptive_field")
        halo = tuple(int(math.ceil((r - 1) / 2)) for r in rf)
    if max_halo is not None:
        halo = tuple(min(h, int(max_halo)) for h in halo)
    return tuple(_ceil_to(h, input_multiple) for h in halo)


@dataclass(frozen=True)
class AxisPlan:
    """Tile layout along one axis (all in image coordinates)."""

    length: int  # image length
    tile: int  # model input length per tile (core + 2 * halo)
    halo: int
    core: int
    starts: tuple  # core start of every tile


@dataclass(frozen=True)
class TileInfo:
    """One tile: where its input comes from and where its prediction goes.

    `src` are the (row, col) slices of the tile's input in image coordinates (may extend
    outside the image: those pixels are mirror-padded). `core` are the (row, col) slices of the
    tile prediction that are kept, and `dst` the matching slices of the output image.
    """

    index: tuple
    src: tuple
    core: tuple
    dst: tuple


def _floor_step(core, overlap, m):
    step = core - overlap
    return max(step - step % m, m)


def plan_axis(length, tile, halo, overlap, input_multiple=1):
    """Lays tiles along one axis of `length` pixels.

    Returns:
        AxisPlan whose `starts` are multiples of `input_multiple`; cores cover [0, length).

    Raises:
        ValueError: inconsistent sizes, with a fix.
    """
    m = int(input_multiple)
    if halo < 0 or overlap < 0:
        raise ValueError(f"Received halo={halo}, overlap={overlap}; both must be >= 0.")
    halo = _ceil_to(halo, m)
    tile = _ceil_to(tile, m)
    core = tile - 2 * halo
    if core <= overlap or core < m:
        raise ValueError(
            f"Received tile_size={tile} with halo={halo} and overlap={overlap}: the tile core "
            f"(tile_size - 2*halo = {core}) must be larger than the overlap. To fix, increase "
            f"tile_size to at least {2 * halo + overlap + max(m, 16)} or reduce halo/overlap."
        )
    if length <= core:
        core = _ceil_to(length, m)
        return AxisPlan(length, core + 2 * halo, halo, core, (0,))
    max_step = _floor_step(core, overlap, m)
    count = int(math.ceil((length - core) / max_step)) + 1
    # Shrink the tiles to the smallest aligned core that still covers the image with `count`
    # tiles, so little is computed twice (the cost over plain prediction stays ~(tile/step)^2).
    core = _ceil_to(max(math.ceil((length + (count - 1) * overlap) / count), overlap + 1), m)
    while (count - 1) * _floor_step(core, overlap, m) + core < length:
        core += m
    step = _floor_step(core, overlap, m)
    tile = core + 2 * halo
    starts = tuple(k * step for k in range(count))
    return AxisPlan(length, tile, halo, core, starts)


def iter_tiles(shape, tile_size, halo, overlap, input_multiple=1):
    """Yields a `TileInfo` per tile of an image of `shape` (rows, cols), row by row.

    Args:
        shape: (H, W) of the image.
        tile_size, halo, overlap: int or (rows, cols) pairs, in pixels.
        input_multiple: tile sizes and starts are multiples of this.
    """
    plans = _plans(shape, tile_size, halo, overlap, input_multiple)
    for info in _tiles_from_plans(plans):
        yield info


def iter_image_tiles(image, tile_size, halo, overlap, input_multiple=1):
    """Yields `(tile, info)` for every tile of `image` (H, W[, C]): the mirror-padded input
    array of the tile and its `TileInfo` (src/core/dst slices), as CSBDeep's tiling does."""
    image = _as_hwc(image)
    for info in iter_tiles(image.shape[:2], tile_size, halo, overlap, input_multiple):
        yield extract_tile(image, info.src), info


def _plans(shape, tile_size, halo, overlap, input_multiple):
    tiles = _pair(tile_size, "tile_size")
    halos = _pair(halo, "halo")
    overlaps = _pair(overlap, "overlap")
    return tuple(
        plan_axis(int(shape[a]), tiles[a], halos[a], overlaps[a], input_multiple) for a in (0, 1)
    )


def _tiles_from_plans(plans):
    py, px = plans
    for iy, y in enumerate(py.starts):
        for ix, x in enumerate(px.starts):
            src = (slice(y - py.halo, y + py.core + py.halo), slice(x - px.halo, x + px.core + px.halo))
            core_h = min(py.core, py.length - y)
            core_w = min(px.core, px.length - x)
            core = (slice(py.halo, py.halo + core_h), slice(px.halo, px.halo + core_w))
            dst = (slice(y, y + core_h), slice(x, x + core_w))
            yield TileInfo((iy, ix), src, core, dst)


def _mirror_indices(start, stop, length):
    """Indices of [start, stop) mirrored into [0, length) (numpy 'reflect' mode)."""
    idx = np.arange(start, stop)
    if length == 1:
        return np.zeros_like(idx)
    period = 2 * (length - 1)
    idx = np.abs(idx) % period
    return np.where(idx >= length, period - idx, idx)


def extract_tile(image, src):
    """Reads the tile `src` (row, col slices, possibly outside the image) with mirror padding.

    Only the bounding box of the needed pixels is read, so `image` may be a memmap.
    """
    if src[0].start >= 0 and src[1].start >= 0 and src[0].stop <= image.shape[0] and (
        src[1].stop <= image.shape[1]
    ):
        return np.asarray(image[src[0], src[1]])
    rows = _mirror_indices(src[0].start, src[0].stop, image.shape[0])
    cols = _mirror_indices(src[1].start, src[1].stop, image.shape[1])
    r0, r1 = int(rows.min()), int(rows.max()) + 1
    c0, c1 = int(cols.min()), int(cols.max()) + 1
    block = np.asarray(image[r0:r1, c0:c1])
    return block[np.ix_(rows - r0, cols - c0)]


class _BandAccumulator:
    """Weighted sums for a band of rows; finished rows are written to `out`.

    The weights are pre-normalised (they sum to 1 at every pixel), so a finished row is just
    cast and copied; where one tile covers a pixel its weight is exactly 1 and the prediction
    is copied bit for bit. Sums are float64 so blended pixels round correctly to float32.
    Buffers keep their capacity and finished rows are shifted out in place.
    """

    def __init__(self, out, width, channels, rows):
        self.out = out
        self.start = 0  # image row of buffer row 0 (first row not yet written)
        self.top = 0  # buffer rows [0, top) may hold sums
        self.acc = np.zeros((rows, width, channels), np.float64)

    def add(self, dst, values, weights):
        stop = dst[0].stop - self.start
        if stop > self.acc.shape[0]:
            grow = max(stop, 2 * self.acc.shape[0]) - self.acc.shape[0]
            self.acc = np.concatenate([self.acc, np.zeros((grow,) + self.acc.shape[1:])])
        view = self.acc[dst[0].start - self.start : stop, dst[1]]
        view += values * weights[..., None]
        self.top = max(self.top, stop)

    def flush(self, upto):
        """Writes rows [start, upto) to `out` and shifts them out of the band."""
        count = upto - self.start
        if count <= 0:
            return
        self.out[self.start : upto] = self.acc[:count]
        live = self.top - count
        if live > 0:
            self.acc[:live] = self.acc[count : self.top]
        self.acc[max(live, 0) : self.top] = 0
        self.top = max(live, 0)
        self.start = upto


def _normalised_windows(plan, window, overlap):
    """Per-tile 1D weights along one axis, divided by their sum over all tiles (partition of 1)."""
    base = WINDOWS.get(window)(plan.core, overlap)
    total = np.zeros(plan.starts[-1] + plan.core)
    for start in plan.starts:
        total[start : start + plan.core] += base
    return [base / total[start : start + plan.core] for start in plan.starts]


def _release_mapped_pages(array):
    """Drops the resident pages of a memory-mapped array (numpy.memmap and its views).

    Pages of a shared file mapping stay counted in the process RSS once touched; the tiler
    never revisits finished rows, so dropping them after each band keeps peak RSS bounded.
    Dirty pages are flushed first; later reads fault the data back in from the page cache.
    """
    array = getattr(array, "mapped_base", array)  # a lazily normalised view of a memmap
    mapping = getattr(array, "_mmap", None)
    if mapping is None or not hasattr(mapping, "madvise") or not hasattr(mmap, "MADV_DONTNEED"):
        return
    try:
        if array.flags.writeable:
            mapping.flush()
        mapping.madvise(mmap.MADV_DONTNEED)
    except (OSError, ValueError):  # closed or unsupported mapping: only memory is at stake
        pass


def _as_hwc(image):
    if image.ndim == 2:
        return image[..., None]
    if image.ndim == 3:
        return image
    raise ValueError(
        f"Received an image of shape {image.shape}; predict_tiled expects (H, W) or (H, W, C). "
        "For stacks and time-lapses use predict_stack, which predicts frame by frame."
    )


def predict_tiled(
    image,
    predictor,
    *,
    tile_size=DEFAULT_TILE_SIZE,
    halo=DEFAULT_HALO,
    overlap=DEFAULT_OVERLAP,
    batch_size=4,
    window="linear",
    tta="none",
    input_multiple=1,
    out=None,
    progress=True,
    batch_control=None,
):
    """Predicts a 2D image of any size tile by tile and blends the tiles seamlessly.

    Args:
        image: array or memmap (H, W) or (H, W, C); converted to float32 tile by tile.
        predictor: callable float32 (N, h, w, C) -> (N, h, w, K) (see `predictors.py`).
        tile_size: model input size per tile, int or (rows, cols); shrunk for small images.
        halo: context pixels per side discarded from each tile prediction (int or pair).
        overlap: pixels by which neighbouring tile cores overlap and are blended (int or pair).
        batch_size: tiles per predictor call; halved automatically on out-of-memory errors.
        window: blending window, a key of `WINDOWS` ("linear", "gaussian").
        tta: test-time augmentation, a key of `TTA_MODES` ("none", "flips", "dihedral").
        input_multiple: model input sizes must be multiples of this (e.g. 16 for 4 poolings).
        out: optional writable array (H, W, K) (e.g. a memmap); allocated if None.
        progress: show a tqdm progress bar of tiles done.
        batch_control: optional `BatchSizeController` shared across calls (stacks).

    Returns:
        `out`, filled with the float32 blended prediction (H, W, K).

    Raises:
        ValueError: bad sizes or a predictor that changes the spatial size.
    """
    image = _as_hwc(image)
    height, width = image.shape[:2]
    plans = _plans((height, width), tile_size, halo, overlap, input_multiple)
    overlaps = _pair(overlap, "overlap")
    weights_y, weights_x = (_normalised_windows(p, window, overlaps[a]) for a, p in enumerate(plans))
    predict = tta_predictor(predictor, tta)
    control = batch_control or BatchSizeController(batch_size)
    tiles = list(_tiles_from_plans(plans))
    starts_y = plans[0].starts
    band = None

    def make_batch(position):
        chunk = tiles[position : position + control.batch_size]
        return chunk, np.stack([extract_tile(image, t.src) for t in chunk]).astype(np.float32)

    # One worker thread predicts the next batch while this thread blends the current one
    # (backends release the GIL), so cutting and blending cost little wall time.
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dl_suite_tiles")
    bar = tqdm(total=len(tiles), desc="tiles", unit="tile", disable=not progress, leave=False)
    try:
        position = 0
        chunk, batch = make_batch(0)
        future = executor.submit(control.run, predict, batch)
        while future is not None:
            preds, used = future.result()
            chunk, batch = chunk[:used], batch[:used]
            future = None
            if position + used < len(tiles):
                next_chunk, next_batch = make_batch(position + used)
                future = executor.submit(control.run, predict, next_batch)
            preds = np.asarray(preds)
            if preds.ndim != 4 or preds.shape[:3] != batch.shape[:3]:
                raise ValueError(
                    f"The predictor returned shape {preds.shape} for tiles of shape "
                    f"{batch.shape}; expected (N, h, w, K) with the same N, h, w. Tiled "
                    "inference needs a fully convolutional model whose output has the size "
                    "of its input."
                )
            if band is None:
                out = _prepare_out(out, height, width, preds.shape[-1])
                rows = plans[0].core + plans[0].starts[min(len(starts_y) - 1, 1)] * (
                    1 + control.batch_size // len(plans[1].starts))
                band = _BandAccumulator(out, width, preds.shape[-1], min(rows, height))
            for info, pred in zip(chunk, preds):
                (cy, cx), (iy, ix) = info.core, info.index
                weights = np.outer(weights_y[iy][: cy.stop - cy.start],
                                   weights_x[ix][: cx.stop - cx.start])
                band.add(info.dst, pred[cy, cx], weights)
            position += used
            bar.update(used)
            if position < len(tiles):
                row_start = starts_y[tiles[position].index[0]]
                if row_start > band.start:  # a tile row is finished
                    band.flush(row_start)
                    _release_mapped_pages(out)
                    _release_mapped_pages(image)
                chunk, batch = next_chunk, next_batch
        band.flush(height)
        _release_mapped_pages(out)
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
        bar.close()
    if batch_control is None:
        control.report()
    return out


def _prepare_out(out, height, width, channels):
    if out is None:
        return np.empty((height, width, channels), np.float32)
    if tuple(out.shape) == (height, width) and channels == 1:
        return out[..., None]
    if tuple(out.shape) != (height, width, channels):
        raise ValueError(
            f"Received `out` of shape {tuple(out.shape)}, expected ({height}, {width}, "
            f"{channels}) for this image and model. To fix, create it with that shape."
        )
    return out


def predict_stack(frames, predictor, *, out=None, progress=True, batch_size=4, **kwargs):
    """Predicts a stack or time-lapse (T, H, W[, C]) frame by frame with `predict_tiled`.

    Args:
        frames: array or memmap (T, H, W) or (T, H, W, C).
        predictor: callable (N, h, w, C) -> (N, h, w, K).
        out: optional writable array (T, H, W, K); allocated if None.
        progress: show a progress bar of frames (tiles of each frame are not shown).
        batch_size: initial tiles per batch; a reduction after an out-of-memory error is kept
            for the following frames.
        **kwargs: passed to `predict_tiled` (tile_size, halo, overlap, window, tta, ...).

    Returns:
        `out` (T, H, W, K) float32.
    """
    if frames.ndim not in (3, 4):
        raise ValueError(
            f"Received a stack of shape {frames.shape}; expected (T, H, W) or (T, H, W, C)."
        )
    control = BatchSizeController(batch_size)
    results = out
    for t in tqdm(range(frames.shape[0]), desc="frames", unit="frame", disable=not progress):
        frame_out = None if results is None else results[t]
        pred = predict_tiled(
            frames[t], predictor, out=frame_out, progress=False, batch_control=control, **kwargs
        )
        if results is None:
            results = np.empty((frames.shape[0],) + pred.shape, np.float32)
            results[0] = pred
    control.report()
    return results


def to_frames(image, num_channels, axes=None):
    """Views an in-memory array as frames (T, H, W, C) for a model with `num_channels` inputs.

    Uses the one image contract: the axes rules of `dl_suite.io.axes` (or `axes`) and the
    channel rule `dl_suite.data.preprocess.to_model_channels`; files are read with
    `dl_suite.io.open_image_data`, which applies the same rules plus the file's metadata.

    Raises:
        DataError: a layout or channel count the rules cannot convert, with what to fix.
    """
    from dl_suite.data.preprocess import model_frames
    from dl_suite.io.axes import resolve_axes, to_tyxc

    return model_frames(to_tyxc(image, resolve_axes(image.shape, None, axes)), num_channels)
