"""Where an annotation and its image disagree: what to look at by eye before training.

The image's plain signal is the classical segmentation (`gaussian_otsu`: smoothing + Otsu's
threshold). Three kinds of finding, for images whose objects are brighter than the background
(fluorescence; `invert=True` for darker objects):

- "unannotated": a signal object that the mask leaves (almost) bare: less than `bare` of its
  pixels are annotated (a nucleus nobody outlined, or debris);
- "partly annotated": a signal object whose annotated share is below `partial` (an outline
  drawn well inside a bright cell, e.g. a small ellipse in a saturated rounded cell);
- "faint": a true object whose mean grey value lies less than `faint` of the way from the
  background to the annotated foreground (a sliver of a nucleus outside the frame, a nucleus
  at background brightness): no model can find it from the image.

A model trained on images with many such cases learns them as noise; a test image with them
caps the scores any model can reach.
"""

import numpy as np
from scipy import ndimage as ndi

from dl_suite.evaluation.classical import gaussian_otsu

KINDS = ("unannotated", "partly annotated", "faint")


def _touches_border(slices, shape):
    return any(s.start == 0 or s.stop == n for s, n in zip(slices, shape))


def _object_rows(labels, values, shape):
    """(label, area, (centroid y, x), touches border, values[k]) of each object of `labels`."""
    index = np.arange(1, int(labels.max(initial=0)) + 1)
    if index.size == 0:
        return []
    areas = ndi.sum_labels(np.ones(shape), labels, index)
    centroids = ndi.center_of_mass(np.ones(shape), labels, index)
    slices = ndi.find_objects(labels)
    return [(i, int(a), c, _touches_border(s, shape), values[k] if values is not None else None)
            for k, (i, a, c, s) in enumerate(zip(index, areas, centroids, slices)) if s is not None]


def audit_annotation(image, true_labels, *, sigma=2.0, invert=False, min_size=30, bare=0.05,
                     partial=0.5, faint=0.1, connectivity=1):
    """Disagreements between one image and its annotation.

    Args:
        image: (H, W) or (H, W, 1) grey image.
        true_labels: (H, W) integer label image of the annotation (background 0), e.g.
            `true_objects(mask, connectivity)`.
        sigma, invert, min_size: the classical segmentation (`gaussian_otsu`); signal objects
            smaller than `min_size` pixels are ignored.
        bare, partial: annotated shares of a signal object below which it is "unannotated" /
            "partly annotated".
        faint: contrast below which a true object is "faint" (0 = background grey, 1 = the
            median grey of the annotated signal).
        connectivity: of the signal objects (1 = 4-connected, 2 = 8-connected).

    Returns:
        (findings, stats): findings is a list of dicts with `kind` (one of `KINDS`), `area`,
        `y`, `x` (centroid), `border` (touches the image border), `annotated` (annotated
        share of the signal object, for the first two kinds) and `contrast` (of the true
        object, for "faint"); stats has `background` and `foreground` (the greys contrast is
        measured between), `true_objects`, `signal_objects` and `regions`, a boolean (H, W)
        map of the findings' pixels (the signal object of the first two kinds, the true object
        of "faint"): what `dl-suite audit --write-ignore` marks as "ignore" for training.
    """
    image = np.asarray(image, np.float32)
    image = image[..., 0] if image.ndim == 3 else image
    true_labels = np.asarray(true_labels)
    if image.shape != true_labels.shape:
        raise ValueError(f"image {image.shape} and annotation {true_labels.shape} differ in shape")
    annotated = true_labels > 0
    signal = gaussian_otsu(image, sigma, invert=invert, min_size=min_size)
    structure = ndi.generate_binary_structure(2, connectivity)
    signal_labels, n_signal = ndi.label(signal, structure)
    n_true = int(len(np.unique(true_labels[annotated])))
    rest = image[~signal & ~annotated]
    agreed = image[signal & annotated]
    background = float(np.median(rest)) if rest.size else float(np.median(image))
    foreground = float(np.median(agreed)) if agreed.size else float(image.max())
    stats = {"background": background, "foreground": foreground, "true_objects": n_true,
             "signal_objects": int(n_signal)}
    findings, signal_ids, true_ids = [], [], []
    if n_signal:
        shares = ndi.mean(annotated, signal_labels, np.arange(1, n_signal + 1))
        for label, area, (y, x), border, share in _object_rows(signal_labels, shares, image.shape):
            if share < partial:
                signal_ids.append(label)
                findings.append({"kind": KINDS[0] if share < bare else KINDS[1], "area": area,
                                 "y": round(y, 1), "x": round(x, 1), "border": border,
                                 "annotated": round(float(share), 3), "contrast": None})
    span = foreground - background
    if annotated.any() and span != 0:
        ids = np.unique(true_labels[annotated])
        means = ndi.mean(image, true_labels, ids)
        relabelled = np.searchsorted(ids, true_labels) + 1
        relabelled[~annotated] = 0
        contrasts = (np.asarray(means) - background) / span
        for label, area, (y, x), border, contrast in _object_rows(relabelled, contrasts, image.shape):
            if contrast < faint:
                true_ids.append(ids[label - 1])
                findings.append({"kind": KINDS[2], "area": area, "y": round(y, 1),
                                 "x": round(x, 1), "border": border, "annotated": None,
                                 "contrast": round(float(contrast), 3)})
    stats["regions"] = np.isin(signal_labels, signal_ids) | (
        annotated & np.isin(true_labels, true_ids))
    return findings, stats
