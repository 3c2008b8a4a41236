"""The one image-to-RGB rule for everything shown to a user: previews, overlays, reports."""

import numpy as np


def to_display_rgb(image, value_range=None, p_low=0.5, p_high=99.5):
    """Any 2D image (H, W[, C]) -> RGB uint8 (H, W, 3).

    Args:
        image: grey (H, W) / (H, W, 1), RGB, or more channels (the first 3 are shown; 2
            channels get the first repeated as blue).
        value_range: (low, high) mapped to 0..255 (e.g. (0, 1) for probabilities and masks);
            None: uint8 images are kept as they are, others are stretched between their
            `p_low` and `p_high` percentiles (of a subsample of at most ~1024 x 1024 pixels).
        p_low, p_high: percentiles of the stretch.

    Returns:
        C-contiguous uint8 array (H, W, 3).
    """
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if image.ndim == 3:
        image = image[..., :3] if image.shape[-1] >= 3 else np.concatenate(
            [image, image[..., :1]], axis=-1)[..., :3]
    if image.dtype == np.uint8 and value_range is None:
        out = image
    else:
        image = np.nan_to_num(image.astype(np.float32))
        if value_range is None:
            sample = image[:: max(1, image.shape[0] // 1024), :: max(1, image.shape[1] // 1024)]
            lo, hi = (float(v) for v in np.percentile(sample, [p_low, p_high]))
        else:
            lo, hi = (float(v) for v in value_range)
        scaled = np.clip((image - lo) / max(hi - lo, 1e-6), 0.0, 1.0)
        out = (scaled * 255.0 + 0.5).astype(np.uint8)
    if out.ndim == 2:
        out = np.repeat(out[..., None], 3, axis=-1)
    return np.ascontiguousarray(out)
