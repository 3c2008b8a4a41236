"""The signal-to-noise ratio used by the robustness assay, defined once.

    SNR = S / sigma

- S, the signal: the mean intensity of the clean image over the foreground minus its mean
  over the background (the signal above the background offset). Without a background
  (everything is foreground) S is the foreground mean. The foreground is the true mask, or,
  when no mask is given, Otsu's threshold of the clean image.
- sigma, the noise: the standard deviation of (noisy - clean) over the foreground, i.e. of
  the noise the corruption added, the clean image being the noise-free reference.

When the input already carries noise at a known SNR (`input_snr`, e.g. the study's clean
reference at SNR 8), the added noise is sized so the *total* noise reaches the requested SNR:
sigma_added^2 = S^2 (1/snr^2 - 1/input_snr^2).
"""

import numpy as np

from dl_suite.errors import UserError


def foreground_mask(image, mask=None):
    """Boolean foreground of `image` (T, Y, X, C): the mask if given, else Otsu's threshold.

    Args:
        image: float array (T, Y, X, C).
        mask: None, or labels/0-1 array broadcastable to (T, Y, X).

    Returns:
        bool array (T, Y, X).
    """
    if mask is not None:
        mask = np.asarray(mask) > 0
        return np.broadcast_to(mask if mask.ndim == 3 else mask[None], image.shape[:3])
    from skimage.filters import threshold_otsu

    grey = image.mean(axis=-1)
    if float(grey.max()) == float(grey.min()):
        return np.zeros(grey.shape, bool)
    return grey > threshold_otsu(grey)


def signal_level(image, foreground):
    """S: mean foreground intensity above the mean background intensity.

    Raises:
        UserError: the foreground is empty or not brighter than the background (no SNR can be
            reached by adding noise).
    """
    grey = image.mean(axis=-1)
    count = int(foreground.sum())
    if count == 0:
        raise UserError(
            "Cannot reach a requested SNR: the image has no foreground (its mask is empty, or the "
            "image is flat). The SNR is mean foreground signal / noise standard deviation; give "
            "images with objects (and their masks), or leave out the noise corruptions for them."
        )
    signal = float(grey[foreground].mean())
    if count < grey.size:
        signal -= float(grey[~foreground].mean())
    if signal <= 0:
        raise UserError(
            f"Cannot reach a requested SNR: the foreground is not brighter than the background "
            f"(signal {signal:.4g}). The SNR assumes bright objects on a dark background "
            "(fluorescence); check the masks, or invert the images."
        )
    return signal


def added_noise_sigma(signal, snr, input_snr=None):
    """Standard deviation of the noise to add so the total noise gives `snr`.

    Raises:
        UserError: snr <= 0, or snr >= input_snr (noise cannot be removed by adding noise).
    """
    if not snr > 0:
        raise UserError(f"Received SNR {snr}; expected a positive number (e.g. 8, 6, 4, 3, 2, 1).")
    if input_snr is None:
        return signal / snr
    if snr >= input_snr:
        raise UserError(
            f"Cannot reach SNR {snr}: the input images already have SNR {input_snr} "
            "([robustness] input_snr), and adding noise only lowers it. Request SNRs below "
            f"{input_snr}, or set input_snr = null for noise-free inputs."
        )
    return signal * float(np.sqrt(1.0 / snr**2 - 1.0 / input_snr**2))


def measured_snr(clean, noisy, foreground):
    """The achieved SNR: S(clean) / std(noisy - clean) over the foreground (the definition above)."""
    clean = np.asarray(clean, np.float64)
    noise = (np.asarray(noisy, np.float64) - clean)[foreground]
    return signal_level(clean, foreground) / max(float(noise.std()), 1e-12)
