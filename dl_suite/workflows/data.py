"""Reads the image/mask pairs a config names and preprocesses them (train, val, eval, test)."""

import logging

import numpy as np

from dl_suite.data.preprocess import prepare_mask, preprocess_image, split_slices
from dl_suite.errors import DataError
from dl_suite.io import read_image, read_mask
from dl_suite.io.pairs import find_pairs, resolve_split_dirs

logger = logging.getLogger(__name__)

_SPLIT_KEYS = {
    "train": ("train", "image_datapath", "mask_datapath", "datapath"),
    "val": ("train", "val_image_datapath", "val_mask_datapath", "val_datapath"),
    "eval": ("eval", "image_datapath", "mask_datapath", "datapath"),
    "test": ("test", "image_datapath", "mask_datapath", "datapath"),
}
_WHAT = {"train": "training", "val": "validation", "eval": "evaluation", "test": "test"}


def split_pairs(cfg, split):
    """(image, mask) path pairs of a split, or None when the config names no folder for it."""
    section, image_key, mask_key, data_key = _SPLIT_KEYS[split]
    values = cfg[section]
    dirs = resolve_split_dirs(values[image_key], values[mask_key], values[data_key], _WHAT[split])
    if dirs is None:
        return None
    return find_pairs(*dirs)


def load_samples(pairs, cfg, raw_masks=None):
    """Reads and preprocesses pairs; stacks become one sample per slice.

    Args:
        raw_masks: optional list; each slice's mask as read (instance ids kept, before
            `prepare_mask`) is appended to it, for instance scores.

    Returns:
        (names, images, masks): images float32 (H, W, C), masks integer (H, W).

    Raises:
        DataError: a mask's size differs from its image's.
    """
    names, images, masks = [], [], []
    threshold = cfg["dataset"]["mask_threshold"]
    for image_path, mask_path in pairs:
        image_slices = split_slices(read_image(image_path), image_path)
        mask_slices = split_slices(read_mask(mask_path, threshold=threshold), mask_path)
        if len(image_slices) != len(mask_slices):
            raise DataError(
                f"'{image_path.name}' has {len(image_slices)} slices but its mask '{mask_path.name}' has {len(mask_slices)}."
            )
        for index, (image, mask) in enumerate(zip(image_slices, mask_slices)):
            if image.shape[:2] != mask.shape[:2]:
                raise DataError(
                    f"Image '{image_path}' is {image.shape[1]}x{image.shape[0]} px but its mask "
                    f"'{mask_path}' is {mask.shape[1]}x{mask.shape[0]} px. Each mask must match its image."
                )
            suffix = f"#{index}" if len(image_slices) > 1 else ""
            names.append(image_path.stem + suffix)
            images.append(preprocess_image(image, cfg, image_path))
            masks.append(prepare_mask(mask, cfg, mask_path))
            if raw_masks is not None:
                raw_masks.append(mask)
    return names, images, masks


def split_validation(samples, fraction, seed):
    """Splits (names, images, masks) into train and validation parts by a seeded permutation."""
    names = samples[0]
    count = len(names)
    if count < 2 or fraction <= 0:
        return samples, None
    num_val = min(count - 1, max(1, int(round(count * fraction))))
    order = np.random.default_rng(seed).permutation(count)
    val_idx, train_idx = sorted(order[:num_val]), sorted(order[num_val:])
    pick = lambda idx: tuple([part[i] for i in idx] for part in samples)  # noqa: E731
    return pick(train_idx), pick(val_idx)


def require_split(cfg, split):
    """Like `split_pairs` but a missing folder is an error that says which keys to set."""
    pairs = split_pairs(cfg, split)
    if pairs is None:
        section, image_key, mask_key, data_key = _SPLIT_KEYS[split]
        raise DataError(
            f"No {_WHAT[split]} data configured: set {section}.{image_key} and {section}.{mask_key}, "
            f"or {section}.{data_key} (a folder with images/ and masks/)."
        )
    return pairs
