"""Post-processing of frames larger than memory, chunk by chunk, equal to the whole-frame path.

`postprocess_chunked` gives the same mask and labels as `postprocess.postprocess` while holding
only a few chunks in memory:

- blur, threshold, opening and closing are local: each chunk is computed with a margin as wide
  as their reach (blursize // 2 + 2 * opening_radius + 2 * closing_radius + 1) and its core kept;
- the Otsu threshold is taken from the same strided sample `otsu_threshold` uses;
- hole filling, small-object removal, border clearing and connected-component labels are
  global: every chunk is labelled on its own, labels that touch across a chunk border are
  merged (scipy's connected components over the border equivalences, i.e. union-find), and the
  merged components are numbered in the raster order of their first pixel, as `ndi.label` does.
"""

import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from dl_suite.inference.postprocess import (
    THRESHOLD_METHODS,
    clean_mask,
    resolve_threshold,
    size_limits,
)

CHUNK = 2048
SAMPLE_PIXELS = 4_000_000  # as in postprocess.otsu_threshold
SAMPLE_FREE = ("fixed", "run")  # threshold methods that do not look at the probabilities
CHUNKED_INSTANCE_METHODS = ("none", "connected")


def _starts(length, chunk):
    return list(range(0, length, chunk))


def _structure(connectivity):
    return ndi.generate_binary_structure(2, 1 if connectivity == 4 else 2)


@dataclass
class Components:
    """Connected components of a chunked binary image.

    `lut` maps a provisional label (chunk label + chunk offset) to its final label 1..count;
    `sizes[l]` and `border[l]` give each final label's pixel count and whether it touches the
    image border (index 0 is the background).
    """

    lut: np.ndarray
    sizes: np.ndarray
    border: np.ndarray
    count: int
    connectivity: int
    chunk: int


def _chunk_labels(read, y0, y1, x0, x1, connectivity):
    labels, count = ndi.label(np.asarray(read(slice(y0, y1), slice(x0, x1)), bool),
                              structure=_structure(connectivity))
    return labels, count


def find_components(read, shape, *, connectivity=8, chunk=CHUNK, after_row=None):
    """Labels a binary image chunk by chunk and merges labels across chunk borders.

    Args:
        read: callable (row slice, col slice) -> bool block of the image.
        shape: (H, W).
        connectivity: 4 or 8.
        chunk: chunk side in pixels.
        after_row: optional callable run after each row of chunks (e.g. to drop mapped pages).

    Returns:
        Components.
    """
    height, width = shape
    rows, cols = _starts(height, chunk), _starts(width, chunk)
    above = {y: np.zeros(width, np.int64) for y in rows[1:]}
    below = {y: np.zeros(width, np.int64) for y in rows[1:]}
    left = {x: np.zeros(height, np.int64) for x in cols[1:]}
    right = {x: np.zeros(height, np.int64) for x in cols[1:]}
    sizes, firsts, borders = [np.zeros(1, np.int64)], [np.zeros(1, np.int64)], [np.zeros(1, bool)]
    offset = 0
    for y0 in rows:
        y1 = min(y0 + chunk, height)
        for x0 in cols:
            x1 = min(x0 + chunk, width)
            labels, count = _chunk_labels(read, y0, y1, x0, x1, connectivity)
            glob = np.where(labels > 0, labels.astype(np.int64) + offset, 0)
            sizes.append(np.bincount(labels.ravel(), minlength=count + 1)[1:])
            values, index = np.unique(labels.ravel(), return_index=True)
            r, c = np.divmod(index[values > 0], x1 - x0)
            firsts.append((y0 + r).astype(np.int64) * width + x0 + c)
            edge = np.zeros(count + 1, bool)
            for side, at_border in ((labels[0], y0 == 0), (labels[-1], y1 == height),
                                    (labels[:, 0], x0 == 0), (labels[:, -1], x1 == width)):
                if at_border:
                    edge[side] = True
            borders.append(edge[1:])
            if y0 in below:
                below[y0][x0:x1] = glob[0]
            if y1 in above:
                above[y1][x0:x1] = glob[-1]
            if x0 in right:
                right[x0][y0:y1] = glob[:, 0]
            if x1 in left:
                left[x1][y0:y1] = glob[:, -1]
            offset += count
        if after_row:
            after_row()
    pairs = [_touching(above[y], below[y], connectivity) for y in rows[1:]]
    pairs += [_touching(left[x], right[x], connectivity) for x in cols[1:]]
    a = np.concatenate([p[0] for p in pairs] + [np.zeros(0, np.int64)])
    b = np.concatenate([p[1] for p in pairs] + [np.zeros(0, np.int64)])
    graph = coo_matrix((np.ones(a.size, np.int8), (a, b)), shape=(offset + 1, offset + 1))
    _, component = connected_components(graph, directed=False)
    first = np.concatenate(firsts)
    first[0] = -1  # the background's component comes first
    roots = component
    smallest = np.full(roots.max() + 1, np.iinfo(np.int64).max)
    np.minimum.at(smallest, roots, first)
    rank = np.empty_like(smallest)
    rank[np.argsort(smallest, kind="stable")] = np.arange(smallest.size)
    lut = rank[roots]  # background -> 0, components -> 1..count in first-pixel order
    count = int(smallest.size - 1)
    size = np.bincount(lut, weights=np.concatenate(sizes), minlength=count + 1).astype(np.int64)
    border = np.bincount(lut, weights=np.concatenate(borders), minlength=count + 1) > 0
    size[0], border[0] = 0, False
    return Components(lut, size, border, count, connectivity, chunk)


def _touching(first, second, connectivity):
    """Label pairs (a, b) of two adjacent lines that are neighbours (both foreground)."""
    shifts = (0,) if connectivity == 4 else (-1, 0, 1)
    a_all, b_all = [], []
    n = first.size
    for d in shifts:
        a = first[max(0, -d) : n - max(0, d)]
        b = second[max(0, d) : n - max(0, -d)]
        both = (a > 0) & (b > 0)
        a_all.append(a[both])
        b_all.append(b[both])
    return np.concatenate(a_all), np.concatenate(b_all)


def map_components(read, write, shape, components, table, after_row=None):
    """Second pass: relabels every chunk and writes `table[final label]` with `write`.

    Args:
        read: the same callable given to `find_components` (chunks must be unchanged).
        write: callable (row slice, col slice, values, labels) storing a chunk's result;
            `labels` are the final labels of the chunk.
        shape: (H, W).
        components: from `find_components`.
        table: array indexed by final label (0 = background).
        after_row: optional callable run after each row of chunks.
    """
    height, width = shape
    chunk, offset = components.chunk, 0
    for y0 in _starts(height, chunk):
        y1 = min(y0 + chunk, height)
        for x0 in _starts(width, chunk):
            x1 = min(x0 + chunk, width)
            labels, count = _chunk_labels(read, y0, y1, x0, x1, components.connectivity)
            final = components.lut[np.where(labels > 0, labels.astype(np.int64) + offset, 0)]
            write(slice(y0, y1), slice(x0, x1), table[final], final)
            offset += count
        if after_row:
            after_row()


def _threshold(fg_block, prob, options, run_threshold, chunk, done):
    """The threshold as `postprocess` resolves it (Otsu from the same strided sample)."""
    method = options.threshold_method
    THRESHOLD_METHODS.get(method)  # unknown names fail here with the list of known ones
    if method in SAMPLE_FREE:
        return resolve_threshold(None, method, value=options.threshold, run_threshold=run_threshold)
    height, width = prob.shape[:2]
    step = 1
    if height * width > SAMPLE_PIXELS:
        step = int(math.ceil(math.sqrt(height * width / SAMPLE_PIXELS)))
    sample = np.empty((len(range(0, height, step)), len(range(0, width, step))), np.float32)
    for y0 in _starts(height, chunk):
        y1 = min(y0 + chunk, height)
        rows = slice((-y0) % step, y1 - y0, step)
        for x0 in _starts(width, chunk):
            x1 = min(x0 + chunk, width)
            block = fg_block(y0, y1, x0, x1)[rows, (-x0) % step :: step]
            sample[-(-y0 // step) : -(-y0 // step) + block.shape[0],
                   -(-x0 // step) : -(-x0 // step) + block.shape[1]] = block
        done()
    return resolve_threshold(sample, method, value=options.threshold, run_threshold=run_threshold)


def postprocess_chunked(prob, options, *, mask_out, labels_out=None, run_threshold=None,
                        chunk=CHUNK, after_chunk=None):
    """`postprocess.postprocess` for a memory-mapped probability map, chunk by chunk.

    Args:
        prob: (H, W, K) probabilities (e.g. a memmap).
        options: `PostprocessOptions`; `instance_method` must be in `CHUNKED_INSTANCE_METHODS`.
        mask_out: writable (H, W) uint8 array (0 / 255), e.g. a memmap.
        labels_out: callable count -> writable (H, W) array for the labels, or None.
        run_threshold: the run's optimised threshold.
        chunk: chunk side in pixels.
        after_chunk: optional callable run after each chunk (e.g. to drop mapped pages).

    Returns:
        (threshold, number of instances or None).
    """
    if options.instance_method not in CHUNKED_INSTANCE_METHODS:
        raise ValueError(f"instance_method '{options.instance_method}' has no chunked form.")
    height, width = prob.shape[:2]
    blur = int(options.blursize) if options.blursize and options.blursize > 1 else 0
    margin = blur // 2 + 2 * int(options.opening_radius) + 2 * int(options.closing_radius) + 1
    done = after_chunk or (lambda: None)

    def fg_block(y0, y1, x0, x1, pad=0):
        """Blurred foreground of [y0 - pad, y1 + pad) x [x0 - pad, x1 + pad) within the image."""
        c0, c1 = max(0, y0 - pad), min(height, y1 + pad)
        d0, d1 = max(0, x0 - pad), min(width, x1 + pad)
        reach = blur // 2 + 1 if blur else 0
        a0, a1 = max(0, c0 - reach), min(height, c1 + reach)
        b0, b1 = max(0, d0 - reach), min(width, d1 + reach)
        fg = np.asarray(prob[a0:a1, b0:b1, options.foreground_channel], np.float32)
        if blur:
            fg = ndi.uniform_filter(fg, size=blur)
        return fg[c0 - a0 : c1 - a0, d0 - b0 : d1 - b0]

    threshold = _threshold(fg_block, prob, options, run_threshold, chunk, done)
    for y0 in _starts(height, chunk):
        y1 = min(y0 + chunk, height)
        for x0 in _starts(width, chunk):
            x1 = min(x0 + chunk, width)
            fg = fg_block(y0, y1, x0, x1, pad=margin)
            local = clean_mask(fg > threshold, opening_radius=options.opening_radius,
                               closing_radius=options.closing_radius)
            top, lft = y0 - max(0, y0 - margin), x0 - max(0, x0 - margin)
            mask_out[y0:y1, x0:x1] = local[top : top + y1 - y0, lft : lft + x1 - x0] * np.uint8(255)
        done()

    def read_mask(rows, cols):
        return np.asarray(mask_out[rows, cols]) > 0

    def write_mask(rows, cols, values, _labels):
        mask_out[rows, cols] = np.asarray(values, np.uint8) * np.uint8(255)

    if options.fill_holes:
        holes = find_components(lambda r, c: ~read_mask(r, c), (height, width), connectivity=4,
                                chunk=chunk, after_row=done)
        fill = ~holes.border
        if options.max_hole_size:
            fill &= holes.sizes <= options.max_hole_size
        fill[0] = False

        def fill_write(rows, cols, values, _labels):
            mask_out[rows, cols] = (read_mask(rows, cols) | values) * np.uint8(255)

        map_components(lambda r, c: ~read_mask(r, c), fill_write, (height, width), holes, fill,
                       done)
        done()
    if options.clear_border or options.min_size or options.border_min_size:
        objects = find_components(read_mask, (height, width), connectivity=4, chunk=chunk,
                                  after_row=done)
        keep = np.ones(objects.count + 1, bool)
        if options.min_size or options.border_min_size:
            keep &= objects.sizes >= size_limits(objects.count, objects.border,
                                                 options.min_size, options.border_min_size)
        if options.clear_border:
            keep &= ~objects.border
        keep[0] = False
        map_components(read_mask, write_mask, (height, width), objects, keep, done)
        done()
    if labels_out is None or options.instance_method == "none":
        return threshold, None
    instances = find_components(read_mask, (height, width), connectivity=8, chunk=chunk,
                                after_row=done)
    table = np.arange(instances.count + 1, dtype=np.int64)
    if options.min_size or options.border_min_size:
        table[instances.sizes < size_limits(instances.count, instances.border,
                                            options.min_size, options.border_min_size)] = 0
        table[0] = 0
    out = labels_out(instances.count)

    def write_labels(rows, cols, values, _labels):
        out[rows, cols] = values.astype(out.dtype)

    map_components(read_mask, write_labels, (height, width), instances, table, done)
    done()
    return threshold, instances.count
