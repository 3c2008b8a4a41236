"""Preprocessing shared by train, evaluate and infer, driven by the run's resolved config.

Keeping this in one place is what makes the three agree: a model always sees images
normalised and shaped exactly as in training.
"""

import numpy as np

from dl_suite.data.legacy_filters import apply_image_filters, apply_mask_filters
from dl_suite.data.normalization import normalize
from dl_suite.errors import DataError

# [image] keys passed to the normaliser (each method takes the ones it uses).
NORMALIZATION_KEYS = ("p_low", "p_high", "clahe_clip_limit", "clahe_tile_size", "illumination_sigma")


def split_slices(array, path="image"):
    """A 2D image stays one slice; a TIFF stack (N, H, W[, C]) becomes N slices."""
    array = np.asarray(array)
    if array.ndim == 2 or (array.ndim == 3 and array.shape[-1] in (1, 2, 3, 4)):
        return [array]
    if array.ndim in (3, 4):
        return [array[i] for i in range(array.shape[0])]
    raise DataError(f"'{path}' has shape {array.shape}; expected a 2D image or a stack of 2D images.")


def to_channels(image, channels, path="image"):
    """Returns (H, W, channels): grey is repeated for RGB models, RGB(A) averaged for grey models."""
    image = np.asarray(image)
    if image.ndim == 2:
        image = image[..., None]
    if image.shape[-1] == 4:
        image = image[..., :3]
    have = image.shape[-1]
    if have == channels:
        return image
    if have == 1:
        return np.repeat(image, channels, axis=-1)
    if channels == 1:
        return image.astype(np.float32).mean(axis=-1, keepdims=True)
    raise DataError(
        f"'{path}' has {have} channels but the model expects {channels} "
        f"(model.image_channels). Set model.image_channels = {have} or convert the images."
    )


def preprocess_image(image, cfg, path="image"):
    """One raw 2D image -> float32 (H, W, C) normalised as `cfg["image"]` says."""
    image = to_channels(image, cfg["model"]["image_channels"], path)
    section = cfg["image"]
    image = apply_image_filters(image, section)
    params = {key: section[key] for key in NORMALIZATION_KEYS}
    return normalize(image, section["normalization"], **params).astype(np.float32)


def prepare_mask(mask, cfg, path="mask"):
    """Raw mask -> integer target (H, W): labels for one class, class indices for several.

    For 1-class models instance labels are kept (foreground = label > 0): the data pipeline
    needs them for the U-Net weight map and the contour target, and evaluation for instance
    metrics. `mask.binarize = True` reduces them to 0/1.

    Raises:
        DataError: a multi-class mask holds a value >= model.num_classes.
    """
    mask = apply_mask_filters(mask, cfg["mask"])
    if mask.ndim == 3:
        mask = mask[..., 0] if mask.shape[-1] == 1 else mask.max(axis=-1)
    num_classes = cfg["model"]["num_classes"]
    if cfg["mask"]["binarize"]:
        return (mask > 0).astype(np.uint8)
    if num_classes == 1:
        return mask.astype(np.int32)
    if mask.max(initial=0) >= num_classes:
        raise DataError(
            f"Mask '{path}' contains the value {int(mask.max())}, but model.num_classes = {num_classes} "
            f"allows 0..{num_classes - 1}. Fix the mask, raise num_classes, or set mask.binarize = True."
        )
    return mask.astype(np.int32)


def pad_to_multiple(image, multiple, mode="reflect"):
    """Pads (H, W, ...) at the bottom/right so H and W are multiples; returns (padded, (H, W))."""
    height, width = image.shape[:2]
    pad_h = (-height) % multiple
    pad_w = (-width) % multiple
    if pad_h == 0 and pad_w == 0:
        return image, (height, width)
    pad = [(0, pad_h), (0, pad_w)] + [(0, 0)] * (image.ndim - 2)
    if mode == "reflect" and (pad_h >= height or pad_w >= width):
        mode = "symmetric"
    return np.pad(image, pad, mode=mode), (height, width)


def pad_to_size(image, size, mode="reflect"):
    """Pads (H, W, ...) at the bottom/right to at least `size` = (h, w)."""
    pad_h = max(0, size[0] - image.shape[0])
    pad_w = max(0, size[1] - image.shape[1])
    if pad_h == 0 and pad_w == 0:
        return image
    pad = [(0, pad_h), (0, pad_w)] + [(0, 0)] * (image.ndim - 2)
    if mode == "reflect" and (pad_h >= image.shape[0] or pad_w >= image.shape[1]):
        mode = "symmetric"
    return np.pad(image, pad, mode=mode)
