"""Classical baseline: Gaussian smoothing + Otsu threshold (+ optional distance watershed).

The reference row of the project results tables: what a segmentation without learning gets on
the same images, scored by the same scorecard (`evaluate_images`).
"""

import numpy as np
from scipy import ndimage as ndi

from dl_suite.evaluation.pixel import remove_small


def gaussian_otsu(image, sigma=2.0, *, invert=False, min_size=0):
    """Foreground mask of one image: Gaussian smoothing, then Otsu's threshold.

    Args:
        image: (H, W) or (H, W, 1) grey image (any dtype).
        sigma: Gaussian sigma in pixels (0 = no smoothing).
        invert: foreground is darker than the threshold (e.g. EM cell interiors are brighter,
            nuclei in fluorescence are brighter: both False).
        min_size: remove connected objects smaller than this many pixels.

    Returns:
        (H, W) bool mask.
    """
    from skimage.filters import threshold_otsu

    image = np.asarray(image, np.float32)
    image = image[..., 0] if image.ndim == 3 else image
    smooth = ndi.gaussian_filter(image, sigma) if sigma > 0 else image
    if float(smooth.min()) == float(smooth.max()):
        return np.zeros(smooth.shape, bool)
    mask = smooth > threshold_otsu(smooth)
    mask = ~mask if invert else mask
    if min_size:
        mask = remove_small(mask, int(min_size))
    return mask
