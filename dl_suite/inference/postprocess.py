"""From probabilities to masks and instance labels: threshold, cleanup, instance splitting."""

import logging
from dataclasses import dataclass, replace

import numpy as np
from scipy import ndimage as ndi

from dl_suite.registry import Registry

logger = logging.getLogger(__name__)

THRESHOLD_METHODS = Registry("threshold method")
INSTANCE_METHODS = Registry("instance method")


@THRESHOLD_METHODS.register("fixed")
def fixed_threshold(prob, *, value=None, run_threshold=None):
    """The configured `value` (0.5 if None)."""
    del prob, run_threshold
    return 0.5 if value is None else float(value)


@THRESHOLD_METHODS.register("otsu")
def otsu_threshold(prob, *, value=None, run_threshold=None):
    """Otsu's threshold of this probability map (0.5 for a constant map)."""
    del value, run_threshold
    from skimage.filters import threshold_otsu

    prob = np.asarray(prob)
    if prob.size > 4_000_000:  # a strided sample gives the same histogram at a fraction of RAM
        step = int(np.ceil(np.sqrt(prob.size / 4_000_000)))
        prob = prob[::step, ::step]
    if float(prob.min()) == float(prob.max()):
        return 0.5
    return float(threshold_otsu(prob))


@THRESHOLD_METHODS.register("run", aliases=("optimised", "optimized"))
def run_threshold_method(prob, *, value=None, run_threshold=None):
    """The threshold optimised on validation data and stored in the run (else `value`/0.5)."""
    del prob
    if run_threshold is not None:
        return float(run_threshold)
    logger.warning("The run stores no optimised threshold; using %s.", 0.5 if value is None else value)
    return 0.5 if value is None else float(value)


def resolve_threshold(prob, method="run", *, value=None, run_threshold=None):
    """Returns the threshold for `prob` by `method` (a key of `THRESHOLD_METHODS`).

    Raises:
        ValueError: a threshold outside [0, 1] (probabilities are compared with it).
    """
    threshold = THRESHOLD_METHODS.get(method)(prob, value=value, run_threshold=run_threshold)
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(
            f"Received threshold {threshold} (method '{method}'), expected a value in [0, 1]. "
            "To fix, set `threshold` in [infer] to a probability such as 0.5."
        )
    return threshold


def _disk(radius):
    r = int(radius)
    y, x = np.ogrid[-r : r + 1, -r : r + 1]
    return x * x + y * y <= r * r


def clean_mask(mask, *, fill_holes=False, min_size=0, max_hole_size=None, clear_border=False,
               opening_radius=0, closing_radius=0, border_min_size=None):
    """Morphological cleanup of a 2D binary mask.

    Args:
        mask: 2D bool array.
        fill_holes: fill holes enclosed by foreground (all of them, or up to `max_hole_size`).
        min_size: remove connected objects smaller than this (pixels).
        clear_border: remove objects touching the image border.
        border_min_size: the minimum size of objects touching the image border (cells cut by
            the edge are small); None = `min_size`.
        opening_radius / closing_radius: disk radius of a binary opening / closing (0 = off).

    Returns:
        2D bool array.
    """
    mask = np.asarray(mask, bool)
    if opening_radius:
        mask = ndi.binary_opening(mask, _disk(opening_radius))
    if closing_radius:
        # pad so a closing does not glue objects to the border
        r = int(closing_radius)
        mask = ndi.binary_closing(np.pad(mask, r), _disk(r))[r:-r, r:-r]
    if fill_holes:
        filled = ndi.binary_fill_holes(mask)
        if max_hole_size:
            holes, _ = ndi.label(filled & ~mask)
            sizes = np.bincount(holes.ravel())
            big = sizes > max_hole_size
            big[0] = False
            filled &= ~big[holes]
        mask = filled
    if clear_border or min_size or border_min_size:
        labels, count = ndi.label(mask)
        if count:
            keep = np.ones(count + 1, bool)
            keep[0] = False
            if min_size or border_min_size:
                keep &= np.bincount(labels.ravel(), minlength=count + 1) >= size_limits(
                    count, border_labels(labels), min_size, border_min_size)
            if clear_border:
                keep[border_labels(labels)] = False
            mask = keep[labels]
    return mask


def border_labels(labels):
    """The labels (> 0) of the objects that touch the border of a 2D label image."""
    edge = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    return edge[edge > 0]


def size_limits(count, at_border, min_size, border_min_size=None):
    """The minimum size of each label 0..count: `border_min_size` for the objects touching the
    image border (`at_border`: their labels, or a bool per label), unless None, and
    `min_size` for the others."""
    limits = np.full(count + 1, int(min_size or 0), np.int64)
    if border_min_size is not None:
        limits[at_border] = int(border_min_size)
    return limits


@INSTANCE_METHODS.register("none")
def no_instances(mask, **_):
    """No instance labels (returns None)."""
    return None


@INSTANCE_METHODS.register("connected")
def connected_components(mask, **_):
    """Each 8-connected component is one instance."""
    labels, _ = ndi.label(mask, structure=np.ones((3, 3)))
    return labels


@INSTANCE_METHODS.register("watershed")
def distance_watershed(mask, *, min_distance=5, **_):
    """Splits touching objects: watershed of the distance transform from its maxima.

    Args:
        min_distance: minimal distance (pixels) between two object centres (about a radius).
    """
    from skimage.feature import peak_local_max
    from skimage.segmentation import watershed

    distance = ndi.distance_transform_edt(mask)
    regions, _ = ndi.label(mask, structure=np.ones((3, 3)))
    peaks = peak_local_max(distance, min_distance=max(int(min_distance), 1), labels=regions,
                           exclude_border=False)
    markers = np.zeros(mask.shape, np.int32)
    markers[tuple(peaks.T)] = np.arange(1, len(peaks) + 1)
    # components without a peak (thin shapes) still get a label
    missing = np.setdiff1d(np.unique(regions), np.unique(regions[markers > 0]))
    for value in missing[missing > 0]:
        first = np.argwhere(regions == value)[0]
        markers[tuple(first)] = markers.max() + 1
    return watershed(-distance, markers, mask=mask)


def grow_seeds(surface, seeds, mask, min_seed_size=0):
    """Watershed of `surface` from labelled `seeds` over `mask`; seeds smaller than
    `min_seed_size` pixels are dropped first, and mask objects left without a seed keep one
    label each (8-connected)."""
    from skimage.segmentation import watershed

    if min_seed_size:
        small = np.bincount(seeds.ravel()) < int(min_seed_size)
        small[0] = False
        seeds[small[seeds]] = 0
    labels = watershed(surface, seeds, mask=mask)
    unseeded, _ = ndi.label(mask & (labels == 0), structure=np.ones((3, 3)))
    labels[unseeded > 0] = unseeded[unseeded > 0] + labels.max()
    return labels


@INSTANCE_METHODS.register("seeded_watershed")
def seeded_watershed(mask, *, prob=None, seed_threshold=0.9, min_seed_size=0, **_):
    """Splits objects joined through weak gaps: watershed of the probability map from seeds.

    Seeds are the connected parts of `prob > seed_threshold` (inside the mask) of at least
    `min_seed_size` pixels; each grows over the mask in order of falling probability, so two
    seeds meet where the probability is lowest (a faint membrane or the neck between two
    nuclei). Objects without a seed keep one label each.

    Args:
        prob: 2D foreground probability (the map that was thresholded into `mask`).
        seed_threshold: probability a seed pixel must exceed (above the mask's threshold).
        min_seed_size: smaller seeds are dropped (specks would split an object).
    """
    if prob is None:
        raise ValueError("instance_method 'seeded_watershed' needs the probability map.")
    prob = np.asarray(prob, np.float32)
    seeds, _ = ndi.label(mask & (prob > seed_threshold))
    return grow_seeds(-prob, seeds, mask, min_seed_size)


def touching_pixels(labels):
    """Pixels of an object with a larger-labelled object among their 8 neighbours.

    Removing them leaves no two objects 8-adjacent (a one-pixel line between touching objects),
    so the connected components of the mask are the objects.
    """
    labels = np.asarray(labels)
    return (labels > 0) & (ndi.maximum_filter(labels, size=3) != labels)


@INSTANCE_METHODS.register("contour")
def contour_watershed(mask, *, contour=None, contour_threshold=0.5, min_seed_size=0, **_):
    """Splits objects along a predicted contour channel: seeds = mask minus contours.

    Each seed grows over the mask in order of rising contour probability; objects without a
    seed (all contour) keep one label each.

    Args:
        contour: 2D contour probability (the model's contour output channel).
        contour_threshold: contour pixels are `contour > contour_threshold`.
        min_seed_size: seeds smaller than this many pixels are dropped (their pixels go to the
            neighbouring seeds), so specks between contours do not split an object.
    """
    if contour is None:
        raise ValueError(
            "instance_method 'contour' needs a contour channel, but the model has one output "
            "channel. To fix, set `contour_channel` in [segmentation] to the model's contour "
            "output, or use instance_method = 'watershed'."
        )
    seeds, _ = ndi.label(mask & (np.asarray(contour) <= contour_threshold), structure=np.ones((3, 3)))
    return grow_seeds(np.asarray(contour, np.float32), seeds, mask, min_seed_size)


def distance_energy(prob):
    """The expected distance level of a distance-target model's class probabilities (H, W, C):
    sum_k k * p_k / (C - 1), 0 on background, 1 at object centres."""
    prob = np.asarray(prob, np.float32)
    levels = np.arange(prob.shape[-1], dtype=np.float32) / max(prob.shape[-1] - 1, 1)
    return prob @ levels


@INSTANCE_METHODS.register("distance")
def distance_level_watershed(mask, *, energy=None, seed_threshold=0.9, min_seed_size=0, **_):
    """Splits objects with predicted distance levels (generator.target_type 'distance').

    Seeds are the connected parts of the mask whose expected level `energy` exceeds
    `seed_threshold` (object centres); each grows over the mask in order of falling energy, so
    two seeds meet where the levels are lowest (the edge between two touching objects).
    Objects without a seed keep one label each.

    Args:
        energy: 2D expected distance level in [0, 1] (`distance_energy` of the model output).
        seed_threshold: energy a seed pixel must exceed (e.g. 0.6: well inside an object).
        min_seed_size: smaller seeds are dropped (specks would split an object).
    """
    if energy is None:
        raise ValueError(
            "instance_method 'distance' needs the class probabilities of a model trained on "
            "distance targets (generator.target_type = 'distance'; 3 or more output channels). "
            "To fix, use instance_method = 'watershed', or train with distance targets."
        )
    energy = np.asarray(energy, np.float32)
    seeds, _ = ndi.label(mask & (energy > seed_threshold))
    return grow_seeds(-energy, seeds, mask, min_seed_size)


def label_instances(mask, method="connected", **kwargs):
    """Instance labels of a 2D mask with `method` (a key of `INSTANCE_METHODS`).

    Returns:
        uint16 label image (uint32 if more than 65535 instances), or None for method 'none'.
    """
    labels = INSTANCE_METHODS.get(method)(np.asarray(mask, bool), **kwargs)
    if labels is None:
        return None
    top = int(labels.max(initial=0))
    return labels.astype(np.uint16 if top <= 65535 else np.uint32)


# The one parameter of each instance split that threshold tuning can also choose
# (`eval.split_grid`): the watershed's minimum distance between centres, the seed level of the
# seeded and distance-level watersheds, the contour probability of the contour split.
SPLIT_PARAMETERS = {"watershed": "min_distance", "seeded_watershed": "seed_threshold",
                    "distance": "seed_threshold", "contour": "contour_threshold"}


def with_split_value(options, value):
    """`options` with the split parameter of its instance method set to `value` (an int for
    min_distance); ValueError when the method has none (`SPLIT_PARAMETERS`)."""
    name = SPLIT_PARAMETERS.get(options.instance_method)
    if name is None:
        raise ValueError(f"instance_method '{options.instance_method}' has no split parameter; "
                         f"those with one: {', '.join(SPLIT_PARAMETERS)}.")
    return replace(options, **{name: int(round(value)) if name == "min_distance" else float(value)})


@dataclass(frozen=True)
class PostprocessOptions:
    """The [segmentation] options of post-processing (see postprocess.json)."""

    threshold_method: str = "run"
    threshold: float = None
    foreground_channel: int = -1
    background_channel: int = None
    contour_channel: int = None
    blursize: int = 0
    fill_holes: bool = True
    max_hole_size: int = None
    min_size: int = 0
    border_min_size: int = None
    clear_border: bool = False
    opening_radius: int = 0
    closing_radius: int = 0
    instance_method: str = "connected"
    min_distance: int = 5
    seed_threshold: float = 0.9
    contour_threshold: float = 0.5
    min_seed_size: int = 0
    separate_touching: bool = False

    @classmethod
    def from_config(cls, section, *, threshold=None):
        """Builds options from a config section dict; unknown keys are ignored.

        `threshold` is the [infer] threshold (number or None) used by 'fixed' and as the 'run'
        fallback.
        """
        names = set(cls.__dataclass_fields__)
        values = {k: v for k, v in dict(section).items() if k in names}
        if threshold is not None:
            values.setdefault("threshold", threshold)
        if isinstance(values.get("blursize"), (list, tuple)):
            values["blursize"] = int(max(values["blursize"]))
        return cls(**values)

    @property
    def smoothing_channel(self):
        """The channel a temporal filter smooths: the background channel when the foreground
        is 1 - background (smoothing one smooths the other), else the foreground channel."""
        return self.background_channel if self.background_channel is not None else self.foreground_channel


def foreground_map(prob, options=PostprocessOptions()):
    """The foreground probability (H, W) float32 of a probability map (H, W[, K]).

    1 - channel `background_channel` when that is set (e.g. 3-class contour models: interior +
    contour), else channel `foreground_channel`; a 2D map is the foreground itself.
    """
    prob = np.asarray(prob)
    if prob.ndim == 3 and options.background_channel is not None:
        return 1.0 - np.asarray(prob[..., options.background_channel], np.float32)
    fg = prob[..., options.foreground_channel] if prob.ndim == 3 else prob
    return np.asarray(fg, np.float32)


def postprocess(prob, options=PostprocessOptions(), *, run_threshold=None):
    """Probability map (H, W[, K]) -> (foreground probability, threshold, mask, labels).

    The foreground is `foreground_map(prob, options)`: channel `foreground_channel` (the last by
    default; for a softmax output with 2 channels that is the object class), or 1 - channel
    `background_channel` when that is set.

    With `separate_touching`, the pixels where two instances touch are background in both the
    mask and the labels.

    Returns:
        (fg float32 (H, W), threshold float, mask bool (H, W), labels uint16 (H, W) or None)
    """
    prob = np.asarray(prob)
    fg = foreground_map(prob, options)
    if options.blursize and options.blursize > 1:
        fg = ndi.uniform_filter(fg, size=int(options.blursize))
    threshold = resolve_threshold(fg, options.threshold_method, value=options.threshold,
                                  run_threshold=run_threshold)
    mask = clean_mask(fg > threshold, fill_holes=options.fill_holes,
                      max_hole_size=options.max_hole_size, min_size=options.min_size,
                      border_min_size=options.border_min_size,
                      clear_border=options.clear_border, opening_radius=options.opening_radius,
                      closing_radius=options.closing_radius)
    contour = energy = None
    if options.contour_channel is not None and prob.ndim == 3:
        contour = prob[..., options.contour_channel]
    if options.instance_method == "distance" and prob.ndim == 3 and prob.shape[-1] >= 3:
        energy = distance_energy(prob)
    labels = label_instances(mask, options.instance_method, contour=contour, prob=fg, energy=energy,
                             min_distance=options.min_distance,
                             seed_threshold=options.seed_threshold,
                             contour_threshold=options.contour_threshold,
                             min_seed_size=options.min_seed_size)
    if labels is not None and (options.min_size or options.border_min_size):
        sizes = np.bincount(labels.ravel())
        small = sizes < size_limits(len(sizes) - 1, border_labels(labels), options.min_size,
                                    options.border_min_size)
        small[0] = False
        labels[small[labels]] = 0
    if labels is not None and options.separate_touching:
        line = touching_pixels(labels)
        mask = mask & ~line
        labels[line] = 0
    return fg, threshold, mask, labels
