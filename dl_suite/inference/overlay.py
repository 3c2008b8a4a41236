"""Colour overlays as RGB uint8 arrays: mask contours or colour-coded instances on the image."""

import numpy as np
from scipy import ndimage as ndi

from dl_suite.display import to_display_rgb  # noqa: F401  (the one display rule)
from dl_suite.registry import Registry

OVERLAY_STYLES = Registry("overlay style")

# Names the legacy [segmentation] black/white keys use, plus common ones (RGB 0-255).
COLOURS = {
    "black": (0, 0, 0), "white": (255, 255, 255), "red": (255, 0, 0), "green": (0, 255, 0),
    "blue": (0, 0, 255), "yellow": (255, 255, 0), "cyan": (0, 255, 255),
    "magenta": (255, 0, 255), "orange": (255, 165, 0), "gray": (128, 128, 128),
    "grey": (128, 128, 128),
}


def parse_colour(colour):
    """A colour name, '#rrggbb' or an (r, g, b) triple -> (r, g, b) ints.

    Raises:
        ValueError: unknown colour, listing the names known.
    """
    if isinstance(colour, str):
        name = colour.strip().lower()
        if name in COLOURS:
            return COLOURS[name]
        if name.startswith("#") and len(name) == 7:
            return tuple(int(name[i : i + 2], 16) for i in (1, 3, 5))
        raise ValueError(
            f"Received colour '{colour}', expected a name ({', '.join(sorted(COLOURS))}), "
            "'#rrggbb' or [r, g, b]."
        )
    r, g, b = (int(c) for c in colour)
    return r, g, b


def boundaries(labels):
    """Inner boundary pixels of each labelled (or binary) region."""
    labels = np.asarray(labels)
    if labels.dtype == bool:
        labels = labels.astype(np.uint8)
    grown = ndi.grey_dilation(labels, size=(3, 3))
    shrunk = ndi.grey_erosion(labels, size=(3, 3))
    return (labels > 0) & ((grown != labels) | (shrunk != labels))


def instance_colours(count, seed=0):
    """`count` + 1 distinct bright RGB colours (index 0 is black) from a fixed seed."""
    rng = np.random.default_rng(seed)
    hues = (np.arange(count) * 0.61803398875 + rng.random()) % 1.0
    import colorsys

    colours = [colorsys.hsv_to_rgb(h, 0.85, 1.0) for h in hues]
    return np.vstack([[0, 0, 0], (np.array(colours).reshape(-1, 3) * 255)]).astype(np.uint8)


@OVERLAY_STYLES.register("contours")
def contour_overlay(image, mask=None, labels=None, *, colour="green", **_):
    """The image with the outlines of the mask (or of each instance) in `colour`."""
    out = to_display_rgb(image).copy()
    edges = boundaries(labels if labels is not None else np.asarray(mask, bool))
    out[edges] = parse_colour(colour)
    return out


@OVERLAY_STYLES.register("instances")
def instance_overlay(image, mask=None, labels=None, *, alpha=0.45, **_):
    """The image with each instance filled in its own colour (alpha-blended) and outlined."""
    out = to_display_rgb(image).astype(np.float32)
    if labels is None:
        labels = ndi.label(np.asarray(mask, bool))[0]
    palette = instance_colours(int(labels.max(initial=0)))
    colours = palette[labels].astype(np.float32)
    inside = labels > 0
    out[inside] = (1 - alpha) * out[inside] + alpha * colours[inside]
    edges = boundaries(labels)
    out[edges] = colours[edges]
    return out.astype(np.uint8)


@OVERLAY_STYLES.register("colorize", aliases=("mask",))
def colorize_mask(image=None, mask=None, labels=None, *, black="black", white="green", **_):
    """The legacy colourised mask: background in `black`, foreground in `white` (no image)."""
    mask = np.asarray(mask if mask is not None else labels > 0, bool)
    out = np.empty(mask.shape + (3,), np.uint8)
    out[:] = parse_colour(black)
    out[mask] = parse_colour(white)
    return out


def make_overlay(image, mask=None, labels=None, style="contours", **kwargs):
    """Renders an overlay with `style` (a key of `OVERLAY_STYLES`) as RGB uint8 (H, W, 3)."""
    return OVERLAY_STYLES.get(style)(image, mask=mask, labels=labels, **kwargs)
