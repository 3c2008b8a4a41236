"""Preprocessing shared by train, evaluate and infer, driven by the run's resolved config.

Keeping this in one place is what makes the three agree: a model always sees images
normalised and shaped exactly as in training.
"""

import numpy as np

from dl_suite.data.legacy_filters import apply_image_filters, apply_mask_filters
from dl_suite.data.normalization import normalize
from dl_suite.data.targets import uses_instance_targets
from dl_suite.errors import DataError

# [image] keys passed to the normaliser (each method takes the ones it uses).
NORMALIZATION_KEYS = ("p_low", "p_high", "clahe_clip_limit", "clahe_tile_size", "illumination_sigma")


def to_model_channels(image, channels, path="image"):
    """THE channel rule of train, evaluate and infer: (..., C) -> (..., `channels`).

    - C == channels: unchanged;
    - C = 3 or 4 (RGB, RGBA) and a 1-channel model: the mean of R, G and B (alpha dropped),
      as float32; the mean (not a luminance weighting) keeps runs trained before this rule
      valid;
    - C = 4 and a 3-channel model: alpha dropped;
    - C = 1 and a multi-channel model: the grey channel repeated.

    Args:
        image: array whose last axis is the channels, e.g. one frame (Y, X, C) or (T, Y, X, C).
        channels: the model's `image_channels`.
        path: the file, for messages.

    Raises:
        DataError: any other combination, saying what was found and how to fix it.
    """
    have = int(image.shape[-1])
    if have == channels:
        return image
    if have in (3, 4) and channels == 1:
        return np.asarray(image[..., :3], dtype=np.float32).mean(axis=-1, keepdims=True)
    if have == 4 and channels == 3:
        return image[..., :3]
    if have == 1:
        return np.repeat(image, channels, axis=-1)
    raise DataError(
        f"'{path}' has {have} channel(s) per frame but the model expects {channels} "
        f"([model] image_channels = {channels}). To fix, set [model] image_channels = {have} "
        "(and retrain), or, if a dimension was taken for channels by mistake, set [dataset] axes "
        "(e.g. \"TYX\" for a stack of grey frames)."
    )


class ModelFrames:
    """Lazy (T, Y, X, channels) frames: `frames[t]` converts one frame with `to_model_channels`.

    Keeps memory bounded for memory-mapped stacks (only the frames asked for are converted).
    Indexing takes the frame index first (`frames[t]`, `frames[a:b, y0:y1]`); `np.asarray`
    converts everything.
    """

    def __init__(self, array, channels, path="image"):
        self.array = array
        self.channels = channels
        self.path = path
        self.shape = tuple(array.shape[:3]) + (channels,)
        self.ndim = 4
        # Fails here, before any work, when the rule cannot convert these channels.
        self.dtype = to_model_channels(np.asarray(array[:1, :1, :1]), channels, path).dtype

    def __len__(self):
        return self.shape[0]

    def __getitem__(self, index):
        key = index if isinstance(index, tuple) else (index,)
        if not key or key[0] is Ellipsis:
            return np.asarray(self)[index]
        frames = to_model_channels(self.array[key[0]], self.channels, self.path)
        rest = key[1:] if np.ndim(frames) == 3 else (slice(None),) + key[1:]
        return frames[rest] if key[1:] else frames

    def __array__(self, dtype=None, copy=None):
        array = to_model_channels(np.asarray(self.array), self.channels, self.path)
        return array.astype(dtype) if dtype is not None else array


def model_frames(array, channels, path="image"):
    """(T, Y, X, C) -> (T, Y, X, `channels`) frames for a model, lazily where a copy is needed.

    Returns `array` itself when C already equals `channels`, else a `ModelFrames`.

    Raises:
        DataError: channels the rule cannot convert (see `to_model_channels`).
    """
    if array.shape[-1] == channels:
        return array
    return ModelFrames(array, channels, path)


def preprocess_image(image, cfg, path="image"):
    """One raw frame (H, W[, C]) -> float32 (H, W, C) normalised as `cfg["image"]` says.

    Channels go through `to_model_channels` (a no-op for frames already converted).
    """
    image = np.asarray(image)
    image = to_model_channels(image[..., None] if image.ndim == 2 else image,
                              cfg["model"]["image_channels"], path)
    section = cfg["image"]
    image = apply_image_filters(image, section)
    params = {key: section[key] for key in NORMALIZATION_KEYS}
    return normalize(image, section["normalization"], **params).astype(np.float32)


def prepare_mask(mask, cfg, path="mask"):
    """Raw mask -> integer target (H, W): labels for one class, class indices for several.

    For 1-class models, 3-class contour targets and distance targets (`generator.target_type =
    "contours"` or `"distance"`) instance labels are kept (foreground = label > 0): the data
    pipeline needs them for the U-Net weight map and the contour or distance target, and
    evaluation for instance metrics. `mask.binarize = True` reduces them to 0/1.

    Raises:
        DataError: a multi-class mask holds a value >= model.num_classes.
    """
    mask = apply_mask_filters(mask, cfg["mask"])
    if mask.ndim == 3:
        mask = mask[..., 0] if mask.shape[-1] == 1 else mask.max(axis=-1)
    num_classes = cfg["model"]["num_classes"]
    if cfg["mask"]["binarize"]:
        return (mask > 0).astype(np.uint8)
    if num_classes == 1 or uses_instance_targets(cfg):
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
