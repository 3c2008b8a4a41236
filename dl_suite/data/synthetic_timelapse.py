"""Synthetic fluorescence time-lapse with exact instance masks and lineage (no download needed).

Nuclei are Gaussian-blurred ellipses that move (random walk with a drift), grow, divide (the
parent's track ends, two daughters with new track ids start in the next frame with the parent
as `P`), leave the field (the track ends when no pixel is left) and enter it (new tracks at the
upstream border, so a long video keeps its cells). Every track id is a label present in every
frame of its track and in no other (the Cell Tracking Challenge rule).

SNR definition (the Cell Tracking Challenge's): SNR = mean foreground signal / noise standard
deviation, where the foreground signal is the noise-free intensity above the flat background,
averaged over all mask pixels of all frames, and the noise is additive Gaussian with one
standard deviation for the whole video. The intensities are rounded to uint16 (adds a
quantisation std of 0.29 grey levels, negligible: the signal is 1000 grey levels).

Public API (stable, used by video inference and tracking tests):
    `synthetic_timelapse(...) -> Timelapse` and `measure_snr(frames, labels)`.
"""

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

SIGNAL = 1000.0  # mean foreground signal in grey levels (above the background)
BLUR_SIGMA = 1.0  # point-spread function (pixels)


@dataclass(frozen=True)
class Timelapse:
    """A synthetic video and its ground truth.

    Attributes:
        frames: (T, H, W) uint16 fluorescence frames.
        labels: (T, H, W) uint16 instance masks; the label of a nucleus is its track id.
        tracks: (N, 4) int64 rows `L B E P` (track id, first frame, last frame, parent id or 0),
            sorted by L: the content of a CTC `man_track.txt`.
        snr: the requested signal-to-noise ratio.
        noise_sigma: standard deviation of the added noise (grey levels).
        background: flat background level (grey levels).
    """

    frames: np.ndarray
    labels: np.ndarray
    tracks: np.ndarray
    snr: float
    noise_sigma: float
    background: float

    def divisions(self):
        """{parent id: [daughter ids]} of every division."""
        out = {}
        for label, _, _, parent in self.tracks:
            if parent:
                out.setdefault(int(parent), []).append(int(label))
        return out


class _Cell:
    def __init__(self, label, center, axes, angle, brightness, born):
        self.label, self.center, self.axes = label, np.asarray(center, float), np.asarray(axes, float)
        self.angle, self.brightness, self.born = angle, brightness, born


def _as_shape(size):
    shape = (int(size), int(size)) if np.isscalar(size) else tuple(int(s) for s in size)
    if len(shape) != 2 or min(shape) < 8:
        raise ValueError(f"Received size={size!r}; expected an int or (height, width) >= 8 px.")
    return shape


def _separate(cells, iterations=3):
    """Pushes overlapping nuclei apart so that each keeps most of its ellipse."""
    for _ in range(iterations):
        for i, a in enumerate(cells):
            for b in cells[i + 1:]:
                delta = b.center - a.center
                dist = float(np.hypot(*delta)) or 1e-3
                need = 0.9 * (a.axes.mean() + b.axes.mean())
                if dist < need:
                    push = (need - dist) / 2 * delta / dist
                    a.center -= push
                    b.center += push


def _render(cells, shape):
    """Label image (each pixel to the nearest ellipse, largest component kept) and signal."""
    labels = np.zeros(shape, np.uint16)
    best = np.full(shape, np.inf)
    rows, cols = np.ogrid[: shape[0], : shape[1]]
    for cell in cells:
        dy, dx = rows - cell.center[0], cols - cell.center[1]
        cos, sin = np.cos(cell.angle), np.sin(cell.angle)
        u = (dx * cos + dy * sin) / cell.axes[1]
        v = (-dx * sin + dy * cos) / cell.axes[0]
        dist = u * u + v * v
        win = (dist <= 1.0) & (dist < best)
        labels[win], best[win] = cell.label, dist[win]
    for cell in cells:  # a nucleus cut in two by a neighbour keeps its largest part
        region = labels == cell.label
        parts, count = ndimage.label(region)
        if count > 1:
            sizes = ndimage.sum(region, parts, range(1, count + 1))
            labels[region & (parts != 1 + int(np.argmax(sizes)))] = 0
    signal = np.zeros(shape, np.float64)
    for cell in cells:
        signal[labels == cell.label] = cell.brightness
    return labels, signal


def _divide(cell, next_label, rng):
    axes = cell.axes / np.sqrt(2.0)
    major = np.array([np.sin(cell.angle), np.cos(cell.angle)])  # (dy, dx) of the long axis
    if cell.axes[1] < cell.axes[0]:
        major = np.array([np.cos(cell.angle), -np.sin(cell.angle)])
    offset = 0.55 * max(cell.axes) * major
    return [
        _Cell(next_label + k, cell.center + sign * offset, axes, cell.angle + rng.normal(0, 0.3),
              cell.brightness * rng.uniform(0.9, 1.1), None)
        for k, sign in enumerate((-1, 1))
    ]


def synthetic_timelapse(frames=30, size=64, cells=6, snr=5.0, seed=0, *, radius=(4.0, 7.0),
                        drift=(0.4, 0.25), step_sigma=0.8, growth=0.015, entry_rate=0.05):
    """A synthetic fluorescent-nuclei time-lapse with CTC-style ground truth.

    Args:
        frames: number of frames T (>= 1).
        size: frame size, an int (square) or (height, width).
        cells: nuclei in the first frame.
        snr: mean foreground signal / noise std (see the module docstring), > 0.
        seed: random seed (same arguments and seed, same video).
        radius: (min, max) initial semi-axis in pixels; a nucleus divides when its mean
            semi-axis exceeds 1.3 * max.
        drift: mean displacement (dy, dx) per frame, in pixels.
        step_sigma: standard deviation of the random step per frame and axis, in pixels.
        growth: relative growth of the semi-axes per frame.
        entry_rate: probability per frame that a nucleus enters at the upstream border.

    Returns:
        A `Timelapse`.

    Raises:
        ValueError: an argument is out of range.
    """
    shape = _as_shape(size)
    if int(frames) < 1 or int(cells) < 0 or not snr > 0:
        raise ValueError(f"Received frames={frames}, cells={cells}, snr={snr}; expected "
                         "frames >= 1, cells >= 0 and snr > 0.")
    rng = np.random.default_rng(seed)
    drift = np.asarray(drift, float)
    r_min, r_max = float(radius[0]), float(radius[1])
    alive, tracks, next_label = [], {}, 1
    for _ in range(int(cells)):
        axes = rng.uniform(r_min, r_max, 2)
        center = rng.uniform(axes.max(), np.array(shape) - axes.max())
        alive.append(_Cell(next_label, center, axes, rng.uniform(0, np.pi),
                           rng.uniform(0.7, 1.3), 0))
        next_label += 1
    all_labels = np.zeros((int(frames), *shape), np.uint16)
    all_signal = np.zeros((int(frames), *shape), np.float64)
    for t in range(int(frames)):
        if t:
            births = []
            for cell in list(alive):
                cell.center += drift + rng.normal(0, step_sigma, 2)
                cell.axes *= 1.0 + growth
                cell.angle += rng.normal(0, 0.05)
                inside = np.all(cell.center > cell.axes.max() + 1) and np.all(
                    cell.center < np.array(shape) - cell.axes.max() - 1)
                if cell.axes.mean() > 1.3 * r_max and inside:
                    daughters = _divide(cell, next_label, rng)
                    next_label += 2
                    births.append((cell, daughters))
            for parent, daughters in births:
                alive.remove(parent)
                alive.extend(daughters)
                for d in daughters:
                    d.born, tracks[d.label] = t, [t, t, parent.label]
            if rng.uniform() < entry_rate:
                axes = rng.uniform(r_min, r_max, 2)
                center = rng.uniform(axes.max(), np.array(shape) - axes.max())
                edge = 0 if abs(drift[0]) >= abs(drift[1]) else 1
                center[edge] = 0.0 if drift[edge] >= 0 else shape[edge] - 1.0
                new = _Cell(next_label, center, axes, rng.uniform(0, np.pi), rng.uniform(0.7, 1.3), t)
                next_label += 1
                alive.append(new)
            _separate(alive)
        labels, signal = _render(alive, shape)
        present = set(np.unique(labels).tolist()) - {0}
        for cell in list(alive):
            if cell.label not in present:  # left the field (or fully covered): the track ends
                alive.remove(cell)
                if cell.born == t and cell.label in tracks:
                    del tracks[cell.label]  # a daughter never seen: the parent is a plain end
            else:
                tracks.setdefault(cell.label, [t, t, 0])[1] = t
        all_labels[t], all_signal[t] = labels, signal
    _drop_lonely_daughters(tracks)
    signal = ndimage.gaussian_filter(all_signal, (0, BLUR_SIGMA, BLUR_SIGMA))
    foreground = all_labels > 0
    scale = SIGNAL / signal[foreground].mean() if foreground.any() else SIGNAL
    signal *= scale
    sigma = SIGNAL / float(snr)
    background = max(200.0, 4.0 * sigma)
    noisy = background + signal + rng.normal(0, sigma, signal.shape)
    video = np.clip(np.rint(noisy), 0, 65535).astype(np.uint16)
    table = np.array(sorted((k, *v) for k, v in tracks.items()), np.int64).reshape(-1, 4)
    return Timelapse(video, all_labels, table, float(snr), sigma, background)


def _drop_lonely_daughters(tracks):
    """A division whose second daughter never appeared is no division: the lone daughter keeps
    its track but loses the parent link (so every division has exactly two daughters)."""
    children = {}
    for label, (_, _, parent) in tracks.items():
        if parent:
            children.setdefault(parent, []).append(label)
    for parent, kids in children.items():
        if len(kids) == 1:
            tracks[kids[0]][2] = 0


def measure_snr(frames, labels, margin=3):
    """SNR measured on a video: (mean foreground - mean background) / std background.

    Background pixels are those farther than `margin` * blur sigma + 1 pixels from any mask, so
    the blurred nuclei do not leak into the estimate.
    """
    frames = np.asarray(frames, np.float64)
    foreground = np.asarray(labels) > 0
    far = ~ndimage.binary_dilation(foreground, np.ones((1, 3, 3), bool),
                                   iterations=int(margin * BLUR_SIGMA) + 1)
    background = frames[far]
    return float((frames[foreground].mean() - background.mean()) / background.std())
