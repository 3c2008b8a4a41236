"""Training targets from masks: binary, multi-class (sparse or one-hot), 3-class contours,
distance levels.

Every target is a single-channel integer label map (class indices); "onehot" yields the same
sparse layout, because the losses and metrics expand targets to one-hot themselves.
"""

import numpy as np
from scipy import ndimage
from skimage.segmentation import find_boundaries

from dl_suite.errors import ConfigError, DataError
from dl_suite.registry import Registry

TARGETS = Registry("target type")


def is_binary(mask):
    """True when the mask holds at most one non-zero value."""
    return np.unique(mask).size <= 2 and mask.min(initial=0) >= 0


def instance_labels(mask):
    """Instance labels: a binary mask is split into connected components (4-connectivity);
    a label image is kept as it is."""
    mask = np.asarray(mask)
    if is_binary(mask):
        labels, _ = ndimage.label(mask > 0)
        return labels.astype(np.int32)
    return mask.astype(np.int32)


@TARGETS.register("binary", aliases=("mask", "foreground"))
def binary_target(mask, num_classes=1):
    """0 = background, 1 = any labelled pixel."""
    return (np.asarray(mask) > 0).astype(np.uint8)


@TARGETS.register("multiclass", aliases=("sparse", "categorical", "semantic"))
def multiclass_target(mask, num_classes=2):
    """The mask's values are class indices 0 .. num_classes-1 (sparse)."""
    mask = np.asarray(mask)
    top = int(mask.max(initial=0))
    if mask.min(initial=0) < 0 or top >= max(num_classes, 2):
        raise DataError(
            f"A mask has class values up to {top}, but `num_classes={num_classes}` allows "
            f"0..{max(num_classes, 2) - 1}. To fix, set [model] num_classes to {top + 1}, or use "
            "target_type 'binary' if the values are instance labels."
        )
    return mask.astype(np.uint8 if top < 256 else np.int32)


TARGETS.register("onehot", aliases=("one_hot", "categorical_onehot"))(multiclass_target)


@TARGETS.register("contours", aliases=("contour", "boundaries"))
def contour_target(mask, num_classes=3):
    """3 classes: 0 background, 1 cell interior, 2 cell contour (inner boundary of each instance)."""
    labels = instance_labels(mask)
    target = (labels > 0).astype(np.uint8)
    target[find_boundaries(labels, mode="inner")] = 2
    return target


def _contact_pixels(labels):
    """Object pixels with a pixel of another object among their 8 neighbours."""
    inside = labels > 0
    above = np.where(inside, labels, np.iinfo(labels.dtype).max)
    return inside & ((ndimage.maximum_filter(labels, size=3) > labels)
                     | (ndimage.minimum_filter(above, size=3) < labels))


@TARGETS.register("distance", aliases=("distance_levels", "distance_transform"))
def distance_target(mask, num_classes=5):
    """Distance levels (a quantised deep watershed transform): 0 background, 1..K with
    K = num_classes - 1 the distance of a pixel to its object's edge relative to the largest
    distance in that object, in K equal steps (level = ceil(K * d / d_max)).

    Every object's centre is level K whatever its size, and two touching objects meet at level
    1, so the predicted levels give one watershed seed per object (instance_method 'distance').
    Pixels touching another object count as edge (level 1).
    """
    labels = instance_labels(mask)
    levels = int(num_classes) - 1
    target = np.zeros(labels.shape, np.uint8)
    count = int(labels.max(initial=0))
    if count == 0:
        return target
    contact = _contact_pixels(labels)
    distance = ndimage.distance_transform_edt((labels > 0) & ~contact)
    largest = np.asarray(ndimage.maximum(distance, labels, index=np.arange(count + 1)), float)
    largest[0] = 1.0
    relative = np.where(largest[labels] > 0, distance / np.maximum(largest[labels], 1e-9), 1.0)
    level = np.clip(np.ceil(levels * relative - 1e-9), 1, levels)
    target[labels > 0] = level[labels > 0].astype(np.uint8)
    return target


def resolve_target_type(target_type, num_classes=1):
    """Maps a config string to a `TARGETS` key.

    "segmentation" (legacy `datagen_type`) means binary for num_classes <= 1 (or 2 with a binary
    mask) and sparse multi-class otherwise; any value containing "contour" means "contours",
    any containing "distance" means "distance".
    """
    name = str(target_type).strip().lower()
    if "contour" in name:
        return "contours"
    if "distance" in name:
        return "distance"
    if name == "segmentation":
        return "binary" if num_classes <= 1 else "multiclass"
    return TARGETS.canonical(name)


def config_target_kind(cfg):
    """The `TARGETS` key a (run's) config trains on."""
    generator = (cfg or {}).get("generator") or {}
    model = (cfg or {}).get("model") or {}
    return resolve_target_type(generator.get("target_type", "segmentation"),
                               model.get("num_classes", 1))


def uses_contour_targets(cfg):
    """Whether a (run's) config trains on 3-class contour targets (background, interior, contour)."""
    return config_target_kind(cfg) == "contours"


def uses_instance_targets(cfg):
    """Whether a (run's) config derives its classes from instance labels (contour or distance
    targets): channel 0 is background and the foreground is 1 - background."""
    return config_target_kind(cfg) in ("contours", "distance")


CONTOUR_CLASSES = 3


def target_num_classes(target_type, num_classes=1):
    """Number of classes the model predicts for this target type.

    Raises:
        ConfigError: contour targets (3 classes) with `num_classes` other than 3, or distance
            targets with fewer than 3 classes, which would build a model with the wrong number
            of outputs.
    """
    kind = resolve_target_type(target_type, num_classes)
    if kind == "contours":
        if int(num_classes) != CONTOUR_CLASSES:
            raise ConfigError([
                f"[generator] target_type = '{target_type}' makes 3-class targets (background, "
                f"interior, contour), but [model] num_classes = {num_classes}. To fix, set "
                "[model] num_classes = 3, or use target_type 'segmentation' for a binary mask."
            ])
        return CONTOUR_CLASSES
    if kind == "distance":
        if int(num_classes) < 3:
            raise ConfigError([
                f"[generator] target_type = '{target_type}' makes distance levels (background "
                f"and num_classes - 1 levels), but [model] num_classes = {num_classes}. To fix, "
                "set [model] num_classes to 3 or more (5 gives 4 levels)."
            ])
        return int(num_classes)
    if kind == "binary":
        return 1
    return max(int(num_classes), 2)


def make_target(mask, target_type="binary", num_classes=1):
    """Returns the (H, W) integer target of one mask for `target_type`."""
    kind = resolve_target_type(target_type, num_classes)
    return TARGETS.get(kind)(np.asarray(mask), num_classes=num_classes)
