"""Patch sampling: uniform or foreground-biased choice of patch positions.

With `sampling_pdf = s` a patch whose centre pixel is foreground is (1 + s) times as likely as
one centred on background (the legacy `datagen_sampling_pdf`; 0 = uniform). Distributions are
precomputed once per image, so a draw is one binary search.
"""

import numpy as np


class PatchSampler:
    """Draws top-left corners of `patch_size` patches.

    Args:
        foregrounds: list of (H, W) arrays, non-zero = foreground (one per image).
        patch_size: (h, w), no larger than any image.
        sampling_pdf: foreground bias s >= 0.
    """

    def __init__(self, foregrounds, patch_size, sampling_pdf=0.0):
        self.patch_size = tuple(int(s) for s in patch_size)
        if sampling_pdf is None:
            sampling_pdf = 0.0
        if float(sampling_pdf) < 0:
            raise ValueError(
                f"Received `sampling_pdf={sampling_pdf!r}`, expected >= 0 (0 = uniform patches, "
                "larger values favour patches centred on foreground)."
            )
        self.sampling_pdf = float(sampling_pdf)
        h, w = self.patch_size
        self.ranges = []
        self.cdfs = []
        for fg in foregrounds:
            H, W = fg.shape[:2]
            if H < h or W < w:
                raise ValueError(f"Image of size {(H, W)} is smaller than the patch {(h, w)}.")
            self.ranges.append((H - h + 1, W - w + 1))
            if self.sampling_pdf > 0:
                centres = fg[h // 2: h // 2 + H - h + 1, w // 2: w // 2 + W - w + 1] > 0
                weights = 1.0 + self.sampling_pdf * centres.astype(np.float64)
                self.cdfs.append(np.cumsum(weights.ravel()))
            else:
                self.cdfs.append(None)

    def sample(self, rng, index):
        """Returns (top, left) of a patch in image `index`."""
        rows, cols = self.ranges[index]
        cdf = self.cdfs[index]
        if cdf is None:
            return int(rng.integers(rows)), int(rng.integers(cols))
        flat = int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"))
        return divmod(min(flat, rows * cols - 1), cols)
