"""Finding image/mask pairs on disk: by base name, or by the legacy `raw_NNN <-> instance_ids_NNN`."""

import re
from pathlib import Path

from dl_suite.errors import DataError
import numpy as np

from dl_suite.io.images import is_image_file, read_mask

# Sub-folder layouts understood under a single `datapath`.
LAYOUTS = (("images", "masks"), ("inputs", "labels"), ("image", "label"), ("image", "mask"))
_LEGACY_PREFIXES = (("raw_", "instance_ids_"), ("raw_", "labels_"), ("raw_", "label_"))
_MASK_SUFFIXES = ("_mask", "_masks", "_label", "_labels", "-mask", "_seg")


def list_images(folder):
    """Sorted image files of a folder (or a single image file); clear error if there are none."""
    folder = Path(folder)
    if folder.is_file():
        return [folder]
    if not folder.is_dir():
        raise DataError(f"Folder not found: '{folder}'. Check the path in your config.")
    files = sorted(p for p in folder.iterdir() if p.is_file() and is_image_file(p) and not p.name.startswith("."))
    if not files:
        raise DataError(f"No images (.tif, .png, .jpg) found in '{folder}'.")
    return files


def _pair_key(path):
    stem = path.stem
    for image_prefix, mask_prefix in _LEGACY_PREFIXES:
        if stem.startswith(mask_prefix):
            return stem[len(mask_prefix):]
        if stem.startswith(image_prefix):
            return stem[len(image_prefix):]
    for suffix in _MASK_SUFFIXES:
        if stem.lower().endswith(suffix):
            return stem[: -len(suffix)]
    return stem


def find_pairs(image_dir, mask_dir):
    """Pairs the images of `image_dir` with the masks of `mask_dir` by base name.

    `01.png <-> 01.png`, `cell_7.tif <-> cell_7_mask.png` and `raw_000.tif <->
    instance_ids_000.tif` all pair.

    Returns:
        list of (image_path, mask_path), sorted by image name.

    Raises:
        DataError: a folder is missing or empty, or some files have no partner (they are named).
    """
    images = list_images(image_dir)
    masks = list_images(mask_dir)
    by_key = {}
    for mask in masks:
        key = _pair_key(mask)
        if key in by_key:
            raise DataError(f"Two masks pair with the same image name '{key}': '{by_key[key].name}' and '{mask.name}'.")
        by_key[key] = mask
    pairs, lonely_images = [], []
    for image in images:
        mask = by_key.pop(_pair_key(image), None)
        if mask is None:
            lonely_images.append(image.name)
        else:
            pairs.append((image, mask))
    if lonely_images or by_key:
        parts = []
        if lonely_images:
            parts.append(f"images without a mask in '{mask_dir}': {_names(lonely_images)}")
        if by_key:
            parts.append(f"masks without an image in '{image_dir}': {_names(sorted(m.name for m in by_key.values()))}")
        raise DataError("Image/mask pairs do not match: " + "; ".join(parts) + ". Masks are paired with images by file name.")
    return pairs


def _names(names, limit=8):
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def resolve_split_dirs(image_dir=None, mask_dir=None, datapath=None, what="training"):
    """Returns (image_dir, mask_dir) from either explicit folders or one folder with a known layout."""
    if image_dir and mask_dir:
        return Path(image_dir), Path(mask_dir)
    if datapath:
        root = Path(datapath)
        if not root.is_dir():
            raise DataError(f"The {what} folder '{root}' does not exist. Check the path in your config.")
        for images, masks in LAYOUTS:
            if (root / images).is_dir() and (root / masks).is_dir():
                return root / images, root / masks
        raise DataError(
            f"The {what} folder '{root}' must contain one of these sub-folder pairs: "
            + ", ".join(f"{a}/ + {b}/" for a, b in LAYOUTS) + "."
        )
    if image_dir or mask_dir:
        missing = "mask_datapath" if image_dir else "image_datapath"
        raise DataError(f"The {what} data needs both image_datapath and mask_datapath; {missing} is not set.")
    return None


def natural_key(path):
    """Sort key that orders `img2` before `img10`."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", Path(path).name)]


def folder_has_files(folder):
    """True when `folder` exists and holds anything."""
    folder = Path(folder)
    return folder.is_dir() and any(folder.iterdir())


def find_ignore_masks(folder, mask_paths, key="train.ignore_datapath"):
    """{mask path: ignore-mask path} for the masks with a file of the same base name in
    `folder` (paired as images and masks are); masks without one have nothing ignored.

    Raises:
        DataError: the folder is missing or empty, or holds files that pair with none of the
            masks (named): a wrong folder would otherwise ignore nothing, silently.
    """
    try:
        files = list_images(folder)
    except DataError as error:
        raise DataError(f"{key}: {error}") from None
    by_key = {_pair_key(Path(m)): Path(m) for m in mask_paths}
    found, strays = {}, []
    for path in files:
        mask = by_key.get(_pair_key(path))
        if mask is None:
            strays.append(path.name)
        elif mask in found:
            raise DataError(f"{key}: '{found[mask].name}' and '{path.name}' in '{folder}' are both "
                            f"ignore masks for '{mask.name}'; keep one.")
        else:
            found[mask] = path
    if strays:
        raise DataError(f"{key}: the ignore masks {_names(strays)} in '{folder}' have no mask of "
                        "the same name among the data they are for. Name each ignore mask like its "
                        "mask (e.g. '01.tif' for masks/01.png), or point the key at the right folder.")
    return found


def files_by_name(folder, names, what="file"):
    """{name: path} of the image files of `folder` whose base name (without extension) is one
    of `names`; names without a file are left out.

    Raises:
        DataError: the folder is missing or empty, or two files (`a.tif`, `a.png`) share a name.
    """
    wanted, found = set(names), {}
    for path in list_images(folder):
        if path.stem not in wanted:
            continue
        if path.stem in found:
            raise DataError(f"'{found[path.stem].name}' and '{path.name}' in '{folder}' are both "
                            f"the {what} of '{path.stem}'; keep one.")
        found[path.stem] = path
    return found


def output_pairs(pred_dir, suffix, true_dir):
    """(name, output file, true mask) for every `<name><suffix>` that `dl-suite infer` wrote in
    `pred_dir` (e.g. suffix "_mask.tif"), with the true mask `<name>.*` of `true_dir`.

    Raises:
        DataError: no such output in `pred_dir`, or an output without its true mask.
    """
    pred_dir = Path(pred_dir)
    outputs = sorted(pred_dir.glob(f"*{suffix}")) if pred_dir.is_dir() else []
    if not outputs:
        raise DataError(f"No <name>{suffix} in '{pred_dir}': run dl-suite infer on the images first.")
    names = [path.name[: -len(suffix)] for path in outputs]
    trues = files_by_name(true_dir, names, "true mask")
    missing = [name for name in names if name not in trues]
    if missing:
        raise DataError(f"No true mask in '{true_dir}' for {_names(missing)} (named like the "
                        f"image: <name>.tif, .png, ...).")
    return [(name, path, trues[name]) for name, path in zip(names, outputs)]


def require_same_size(array, path, true, true_path, what=""):
    """Raises DataError when `array` (read from `path`; `what` names it, e.g. "The ignore mask
    ") and the true mask `true` (read from `true_path`) differ in height or width."""
    if np.shape(array) != np.shape(true):
        (h, w), (th, tw) = np.shape(array)[:2], np.shape(true)[:2]
        raise DataError(f"{what}{Path(path).name} is {w}x{h} px but its true mask "
                        f"{Path(true_path).name} is {tw}x{th}: not the same image?")


def read_ignore_mask(path, true, true_path):
    """The 2-D ignore mask `path` as booleans (nonzero = ignored), checked against the true mask
    `true` (an array) read from `true_path`.

    Raises:
        DataError: the two differ in size.
    """
    ignore = np.asarray(read_mask(path, threshold=1)) > 0
    require_same_size(ignore, path, true, true_path, "The ignore mask ")
    return ignore
