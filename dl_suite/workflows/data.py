"""Reads the image/mask pairs a config names and preprocesses them (train, val, eval, test)."""

import logging

import numpy as np

from dl_suite.data.ignore import mark_ignored
from dl_suite.data.preprocess import prepare_mask, preprocess_image
from dl_suite.errors import DataError
from dl_suite.io import read_image_data, read_mask_data
from dl_suite.io.pairs import find_ignore_masks, find_pairs, resolve_split_dirs

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


def load_samples(pairs, cfg, raw_masks=None, ignore_dir=None, ignore_key="train.ignore_datapath",
                 ignore_files=None):
    """Reads and preprocesses pairs; a stack or video becomes one sample per frame.

    Images are read as (T, Y, X, C) by `dl_suite.io.read_image_data` (with `[dataset] axes`
    when set) and masks as (T, Y, X); channels follow `preprocess.to_model_channels`.

    Args:
        raw_masks: optional list; each slice's mask as read (instance ids kept, before
            `prepare_mask`) is appended to it, for instance scores.
        ignore_dir: optional folder of ignore masks (`ignore_key` names it in messages): their
            nonzero pixels are marked in the returned masks (`dl_suite.data.ignore`), for the
            training loss (or the scores) to leave out.
        ignore_files: {mask path: ignore-mask path} found already (`find_ignore_masks`),
            instead of `ignore_dir`; nothing is logged.

    Returns:
        (names, images, masks): images float32 (H, W, C), masks integer (H, W).

    Raises:
        DataError: a mask's size or frame count differs from its image's.
    """
    names, images, masks = [], [], []
    dataset = cfg["dataset"]
    threshold = dataset["mask_threshold"]
    ignore_files = dict(ignore_files or {})
    if ignore_dir:
        ignore_files = find_ignore_masks(ignore_dir, [m for _, m in pairs], ignore_key)
    ignored = 0
    for image_path, mask_path in pairs:
        image = read_image_data(image_path, axes=dataset.get("axes"))
        mask = read_mask_data(mask_path, threshold=threshold, axes=dataset.get("axes"))
        if image.num_frames != mask.shape[0]:
            raise DataError(
                f"'{image_path.name}' has {image.num_frames} frames (axes '{image.axes}') but its "
                f"mask '{mask_path.name}' has {mask.shape[0]}. Give one mask frame per image frame"
                ", or set [dataset] axes if the image's frames were guessed wrongly."
            )
        if image.array.shape[1:3] != mask.shape[1:3]:
            raise DataError(
                f"Image '{image_path}' is {image.array.shape[2]}x{image.array.shape[1]} px but its "
                f"mask '{mask_path}' is {mask.shape[2]}x{mask.shape[1]} px. Each mask must match its image."
            )
        ignore = _read_ignore(ignore_files.get(mask_path), mask, mask_path, ignore_key,
                              dataset.get("axes"))
        for index in range(image.num_frames):
            suffix = f"#{index}" if image.num_frames > 1 else ""
            names.append(image_path.stem + suffix)
            images.append(preprocess_image(image.array[index], cfg, image_path))
            masks.append(prepare_mask(mask[index], cfg, mask_path))
            if ignore is not None:
                masks[-1] = mark_ignored(masks[-1], ignore[index])
                ignored += int(ignore[index].sum())
            if raw_masks is not None:
                raw_masks.append(mask[index])
    if ignore_dir:
        total = sum(m.size for m in masks)
        logger.info("%s: %d of %d images have an ignore mask; %d px (%.2f %%) are ignored.",
                    ignore_key, len(ignore_files), len(pairs), ignored,
                    100.0 * ignored / max(total, 1))
    return names, images, masks


def _read_ignore(path, mask, mask_path, key, axes):
    """The ignore mask `path` as (T, Y, X) booleans (None for no file); same size as `mask`."""
    if path is None:
        return None
    ignore = read_mask_data(path, threshold=1, axes=axes) > 0
    if ignore.shape != mask.shape:
        raise DataError(
            f"{key}: the ignore mask '{path}' is {ignore.shape[2]}x{ignore.shape[1]} px with "
            f"{ignore.shape[0]} frame(s), but its mask '{mask_path}' is {mask.shape[2]}x"
            f"{mask.shape[1]} px with {mask.shape[0]}. An ignore mask must match its mask.")
    return ignore


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
