"""init_project(...): a new project folder from a model name and data folders (`dl-suite init`).

The data are checked first (images and masks pair by name) and the first images are looked at,
so the config starts with the right number of channels and a patch size the images can hold.
"""

import logging

from dl_suite.config.template import project_files
from dl_suite.io.image_data import open_image_data
from dl_suite.io.pairs import find_pairs
from dl_suite.io.scaffold import check_new_folder, write_new_folder

logger = logging.getLogger(__name__)

DEFAULT_PATCH = 256
PATCH_MULTIPLE = 16  # the default U-Net's stride (num_layers = 5)


def inspect_data(images, masks, limit=20):
    """What the config needs to know about a training set.

    Args:
        images, masks: the folders (masks pair with images by file name).
        limit: number of images looked at (their headers only).

    Returns:
        dict: `num_pairs`, `image_channels` (RGB(A) -> 3), `patch_size` (side of the square
        training patch: 256, or less for smaller images, a multiple of 16).

    Raises:
        DataError: a folder is empty or missing, or some files have no partner (named).
    """
    pairs = find_pairs(images, masks)
    shapes = [open_image_data(image).array.shape for image, _ in pairs[:limit]]  # (T, Y, X, C)
    channels = max(shape[-1] for shape in shapes)
    smallest = min(min(shape[1], shape[2]) for shape in shapes)
    patch = DEFAULT_PATCH
    if smallest < DEFAULT_PATCH:
        patch = max(PATCH_MULTIPLE, smallest // PATCH_MULTIPLE * PATCH_MULTIPLE)
    return {"num_pairs": len(pairs), "image_channels": 3 if channels in (3, 4) else channels,
            "patch_size": patch}


def init_project(folder, model, images, masks, *, dialect="ini", test_images=None, test_masks=None):
    """Writes a new project folder (config, 1.train/2.evaluate/3.infer scripts, README).

    Returns:
        (folder Path, sorted file names, the `inspect_data` result).

    Raises:
        UserError: the folder exists; DataError: the data folders do not pair up.
    """
    check_new_folder(folder)  # before reading any data: the clearer refusal comes first
    found = inspect_data(images, masks)
    if test_images is not None:
        found["num_test_pairs"] = len(find_pairs(test_images, test_masks))
    model_values = {"image_channels": found["image_channels"],
                    "image_height": found["patch_size"], "image_width": found["patch_size"]}
    files, executable = project_files(folder, model, images, masks, dialect=dialect,
                                      test_images=test_images, test_masks=test_masks,
                                      model_values=model_values)
    path = write_new_folder(folder, files, executable)
    logger.info("%d training pairs, %d channel(s); patches of %d px.", found["num_pairs"],
                found["image_channels"], found["patch_size"])
    return path, sorted(files), found
