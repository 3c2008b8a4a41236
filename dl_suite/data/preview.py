"""A figure of augmented training samples, so users can see what training will see."""

import numpy as np
from skimage.segmentation import find_boundaries

from dl_suite.display import to_display_rgb

CONTOUR_RGB = np.array([1.0, 0.2, 0.1], np.float32)


def _display(image):
    """(h, w, C) image -> (h, w, 3) float in [0, 1], by the one display rule."""
    return to_display_rgb(image).astype(np.float32) / 255.0


def overlay_contours(image, mask):
    """The image with the outlines of the mask's regions drawn in red."""
    rgb = _display(image).copy()
    edges = find_boundaries(np.asarray(mask).astype(np.int32), mode="inner")
    rgb[edges] = CONTOUR_RGB
    return rgb


def preview_figure(dataset, num=8, columns=4, title=None):
    """A matplotlib Figure of `num` samples of `dataset`: image with mask contours | target.

    Args:
        dataset: a `SegmentationDataset` (batches are taken in order until `num` samples).
        num: number of image/mask pairs shown.
        columns: pairs per row.
    """
    from matplotlib.figure import Figure

    samples = []
    index = 0
    while len(samples) < num and index < len(dataset):
        x, y = dataset[index]
        samples += [(x[i], y[i]) for i in range(len(x))]
        index += 1
    samples = samples[:num]
    columns = max(1, min(columns, len(samples)))
    rows = int(np.ceil(len(samples) / columns))
    figure = Figure(figsize=(2 * 2.2 * columns, 2.3 * rows))
    for k, (x, y) in enumerate(samples):
        if x.ndim == 4:  # video window: show frame t
            x = x[-1]
        target = y[..., 0]
        ax_image = figure.add_subplot(rows, 2 * columns, 2 * k + 1)
        ax_image.imshow(overlay_contours(x, target))
        ax_image.set_title(f"#{k} image", fontsize=8)
        ax_mask = figure.add_subplot(rows, 2 * columns, 2 * k + 2)
        ax_mask.imshow(target, cmap="gray" if target.max() <= 1 else "viridis",
                       interpolation="nearest")
        ax_mask.set_title(f"#{k} target", fontsize=8)
        for ax in (ax_image, ax_mask):
            ax.set_xticks([])
            ax.set_yticks([])
    if title:
        figure.suptitle(title, fontsize=9)
    figure.tight_layout()
    return figure
