"""The INI tool's image and mask filters: `[image] color_converter, gamma, sharpening` and
`[mask] grayscaling, blur, blur_size, threshold`.

They run on raw pixel values before normalisation, identically at train, evaluate and infer
(called from `dl_suite.data.preprocess`). Every filter is off at its default, so configs that do
not set them see no change.
"""

import cv2
import numpy as np
from scipy import ndimage as ndi

from dl_suite.data.normalization import NORMALIZERS
from dl_suite.errors import ConfigError, DataError


def _value_max(image):
    """The full-scale value of the image's dtype (1.0 for floats already in [0, 1])."""
    if np.issubdtype(image.dtype, np.integer):
        return float(np.iinfo(image.dtype).max)
    peak = float(np.max(image, initial=0.0))
    return 1.0 if peak <= 1.0 else peak


def color_code(name):
    """The OpenCV code of a converter name such as "cv2.COLOR_BGR2HSV".

    Raises:
        ConfigError: no such OpenCV conversion (with the closest names).
    """
    short = str(name).split(".")[-1]
    code = getattr(cv2, short, None)
    if not short.startswith("COLOR_") or not isinstance(code, int):
        import difflib

        options = [n for n in dir(cv2) if n.startswith("COLOR_")]
        close = difflib.get_close_matches(short, options, n=3, cutoff=0.6)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise ConfigError([f"image.color_converter: {name!r} is not an OpenCV colour conversion.{hint} "
                           "Use a name such as \"cv2.COLOR_BGR2HSV\", or None."])
    return code


def convert_color(image, name):
    """Applies OpenCV conversion `name` to an RGB (H, W, 3) image.

    dl-suite reads images as RGB while the INI tool read them as BGR (cv2.imread); the channels are
    reversed first so that "COLOR_BGR2..." sees what it saw in that tool.
    """
    code = color_code(name)
    if image.ndim != 3 or image.shape[-1] != 3:
        raise DataError(
            f"image.color_converter = {name!r} needs 3-channel images, got shape {image.shape}. "
            "Set model.image_channels = 3 or remove color_converter."
        )
    short = str(name).split(".")[-1]
    source = image[..., ::-1] if short.startswith("COLOR_BGR") else image
    if source.dtype not in (np.uint8, np.uint16, np.float32):
        source = source.astype(np.float32)
    out = cv2.cvtColor(np.ascontiguousarray(source), code)
    return out[..., None] if out.ndim == 2 else out


def adjust_gamma(image, gamma):
    """value -> max * (value / max) ** (1 / gamma) (the INI tool's look-up table); float32 out."""
    top = _value_max(image)
    scaled = np.clip(image.astype(np.float32) / top, 0.0, 1.0)
    return (top * scaled ** (1.0 / float(gamma))).astype(np.float32)


def sharpen(image, amount, sigma=1.0):
    """Unsharp masking: image + amount * (image - Gaussian(image)), per channel; float32 out."""
    image = image.astype(np.float32)
    sigmas = (sigma, sigma) + (0,) * (image.ndim - 2)
    blurred = ndi.gaussian_filter(image, sigmas)
    return image + float(amount) * (image - blurred)


@NORMALIZERS.register("histogram_equalization", aliases=("he",))
def equalize_histogram(image, **_):
    """The legacy JSON suite's `HE` normalisation: global histogram equalisation per channel, [0, 1]."""
    from skimage import exposure

    image = np.asarray(image, dtype=np.float32)
    if image.ndim == 2:
        return exposure.equalize_hist(image).astype(np.float32)
    channels = [exposure.equalize_hist(image[..., c]) for c in range(image.shape[-1])]
    return np.stack(channels, axis=-1).astype(np.float32)


def apply_image_filters(image, section):
    """Raw (H, W, C) image -> filtered as `[image]` says (unchanged when every filter is off)."""
    if section.get("color_converter"):
        image = convert_color(image, section["color_converter"])
    if section.get("gamma"):
        image = adjust_gamma(image, section["gamma"])
    if section.get("sharpening"):
        image = sharpen(image, section["sharpening"])
    return image


def apply_mask_filters(mask, section):
    """Raw mask -> filtered as `[mask]` says.

    `grayscaling` turns an RGB mask into grey values (OpenCV's luma weights); `blur` smooths the
    mask (0-255 grey values; labels count as 255) with a `blur_size` box filter and binarises the
    result at `threshold` (0/1 out).
    """
    mask = np.asarray(mask)
    if section.get("grayscaling") and mask.ndim == 3 and mask.shape[-1] in (3, 4):
        mask = cv2.cvtColor(np.ascontiguousarray(mask[..., :3]), cv2.COLOR_RGB2GRAY)
    if section.get("blur"):
        if mask.ndim == 3:
            mask = mask.max(axis=-1)
        if mask.dtype != np.uint8 or mask.max(initial=0) <= 1:
            mask = (mask > 0) * 255.0  # labels: blur the foreground on the INI tool's 0-255 scale
        height, width = section.get("blur_size") or (3, 3)
        blurred = cv2.blur(mask.astype(np.float32), (int(width), int(height)))
        mask = (blurred >= float(section.get("threshold", 128))).astype(np.uint8)
    return mask
