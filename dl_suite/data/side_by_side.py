"""The single-file `image|mask` format of the robustness study (pix2pix-style A|B pairs).

`AtoB`: the left half (A) is the input image, the right half (B) the mask; `BtoA` the reverse.
"""

import numpy as np

from dl_suite.errors import DataError

DIRECTIONS = ("AtoB", "BtoA")


def _check_direction(direction):
    if direction not in DIRECTIONS:
        raise ValueError(
            f"Received `direction={direction!r}`, expected 'AtoB' (image left, mask right) or "
            "'BtoA' (mask left, image right)."
        )


def split_side_by_side(array, direction="AtoB", name="image"):
    """Splits one side-by-side array (H, 2W[, C]) into (image, mask).

    Raises:
        DataError: the width is odd, so the file is not a side-by-side pair.
    """
    _check_direction(direction)
    array = np.asarray(array)
    width = array.shape[1]
    if array.ndim < 2 or width % 2:
        raise DataError(
            f"'{name}' has shape {array.shape}; a side-by-side image|mask file needs an even "
            "width (two halves of equal size). Check that the data set is in AtoB/BtoA format."
        )
    left, right = array[:, : width // 2], array[:, width // 2:]
    return (left, right) if direction == "AtoB" else (right, left)


def join_side_by_side(image, mask, direction="AtoB"):
    """Joins an image and a mask of the same height and width into one side-by-side array."""
    _check_direction(direction)
    image, mask = np.asarray(image), np.asarray(mask)
    if image.shape[:2] != mask.shape[:2]:
        raise ValueError(f"Image {image.shape[:2]} and mask {mask.shape[:2]} differ in size.")
    if image.ndim != mask.ndim:
        mask = np.repeat(mask[..., None], image.shape[-1], axis=-1) if image.ndim == 3 else mask
        image = image if mask.ndim == image.ndim else image[..., 0]
    parts = (image, mask.astype(image.dtype)) if direction == "AtoB" else (mask.astype(image.dtype), image)
    return np.concatenate(parts, axis=1)
