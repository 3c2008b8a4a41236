"""Per-pixel loss weight maps: the U-Net paper's separation-border map and a border-emphasis map.

U-Net (Ronneberger et al. 2015, eq. 2):
    w(x) = w_c(x) + w0 * exp(-(d1(x) + d2(x))^2 / (2 sigma^2))
d1, d2 = distances to the nearest and second-nearest cell. The exponential term is added on
background pixels (the gaps between touching cells it is meant to emphasise). Distances are
computed per cell in a window around it, cut off where the term falls below `tol * w0`, so the
cost grows with the number of cells times their size, not with cells times image size.
"""

import math

import cv2
import numpy as np
from scipy import ndimage
from skimage.segmentation import find_boundaries

from dl_suite.data.targets import instance_labels
from dl_suite.registry import Registry

WEIGHT_MAPS = Registry("weight map")


def class_balance(labels, class_weights="balanced"):
    """w_c: per-pixel class-balancing weight of foreground (labels > 0) and background.

    Args:
        class_weights: "balanced" (the most frequent class gets 1, the other
            count_max / count), None (all ones) or a pair (w_background, w_foreground).
    """
    fg = np.asarray(labels) > 0
    if class_weights is None:
        return np.ones(fg.shape, np.float32)
    if isinstance(class_weights, str):
        if class_weights != "balanced":
            raise ValueError(
                f"Received `class_weights={class_weights!r}`, expected 'balanced', None or "
                "[w_background, w_foreground]."
            )
        counts = np.array([fg.size - fg.sum(), fg.sum()], dtype=np.float64)
        wb, wf = (counts.max() / np.maximum(counts, 1.0)).tolist()
    else:
        wb, wf = (float(v) for v in class_weights)
    return np.where(fg, np.float32(wf), np.float32(wb)).astype(np.float32)


def nearest_two_distances(labels, cutoff):
    """d1, d2: distances of every pixel to the nearest and second-nearest instance.

    Distances beyond `cutoff` (from a cell) are reported as inf.
    """
    labels = np.asarray(labels)
    d1 = np.full(labels.shape, np.inf, np.float32)
    d2 = np.full(labels.shape, np.inf, np.float32)
    margin = int(math.ceil(cutoff)) + 1
    h, w = labels.shape
    for index, box in enumerate(ndimage.find_objects(labels), start=1):
        if box is None:
            continue
        r0, r1 = max(box[0].start - margin, 0), min(box[0].stop + margin, h)
        c0, c1 = max(box[1].start - margin, 0), min(box[1].stop + margin, w)
        window = (slice(r0, r1), slice(c0, c1))
        outside = (labels[window] != index).astype(np.uint8)
        dist = cv2.distanceTransform(outside, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
        dist[dist > cutoff] = np.inf
        near = d1[window]
        d2[window] = np.minimum(d2[window], np.maximum(near, dist))
        d1[window] = np.minimum(near, dist)
    return d1, d2


@WEIGHT_MAPS.register("unet", aliases=("u-net", "separation"))
def unet_weight_map(mask, w0=10.0, sigma=5.0, class_weights="balanced", tol=1e-6):
    """The U-Net separation-border weight map of an instance label image (or a binary mask,
    split into connected components).

    Args:
        mask: (H, W) instance labels or binary mask.
        w0: border weight (10 in the paper).
        sigma: border width in pixels (5 in the paper).
        class_weights: see `class_balance`.
        tol: relative cut-off of the exponential term.

    Returns:
        (H, W) float32 weights.
    """
    if w0 < 0 or sigma <= 0:
        raise ValueError(f"Received w0={w0!r}, sigma={sigma!r}; expected w0 >= 0 and sigma > 0.")
    labels = instance_labels(mask)
    weights = class_balance(labels, class_weights)
    if w0 == 0 or labels.max() < 2:
        return weights
    cutoff = sigma * math.sqrt(2.0 * math.log(1.0 / tol))
    d1, d2 = nearest_two_distances(labels, cutoff)
    total = d1 + d2
    term = np.zeros_like(weights)
    near = np.isfinite(total) & (labels == 0)
    term[near] = w0 * np.exp(-np.square(total[near]) / (2.0 * sigma * sigma))
    return weights + term


@WEIGHT_MAPS.register("border", aliases=("boundary", "contour"))
def border_weight_map(mask, w0=10.0, sigma=2.0, **_):
    """1 + w0 * exp(-d^2 / (2 sigma^2)), d = distance to the nearest instance boundary."""
    labels = instance_labels(mask)
    boundary = find_boundaries(labels, mode="thick")
    if not boundary.any():
        return np.ones(labels.shape, np.float32)
    dist = cv2.distanceTransform((~boundary).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    return (1.0 + w0 * np.exp(-np.square(dist) / (2.0 * sigma * sigma))).astype(np.float32)


def weight_map(method, mask, **params):
    """Computes the weight map `method` ("unet" or "border") of one mask."""
    return WEIGHT_MAPS.get(method)(mask, **params)
