"""Per-image output files: probability (float32), mask, instance labels (uint16), overlay.

All TIFFs are ImageJ hyperstacks with the input's pixel size (dl_suite.io.imagej); every file is
written atomically, so a file under its final name is always complete.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dl_suite.io import write_image
from dl_suite.io.imagej import calibration_kwargs, write_imagej_tiff

OUTPUT_KINDS = ("probability", "mask", "labels", "overlay")
SUFFIXES = {
    "probability": "_prob.tif",
    "mask": "_mask.tif",
    "labels": "_labels.tif",
    "overlay": "_overlay.png",
}


@dataclass(frozen=True)
class FrameLayout:
    """How frames of an input map to ImageJ axes: `letter` is 'T' (time) or 'Z' (slices)."""

    num_frames: int = 1
    letter: str = "T"

    @property
    def is_stack(self):
        return self.num_frames > 1

    def axes(self, tail="YX"):
        return (self.letter + tail) if self.is_stack else tail


def output_paths(output_dir, stem, kinds=OUTPUT_KINDS, *, stack=False):
    """Mapping kind -> output path for one input (`stem` = input file name without suffix).

    Stacks get a TIFF overlay (an RGB stack) instead of a PNG.
    """
    output_dir = Path(output_dir)
    paths = {}
    for kind in kinds:
        if kind not in SUFFIXES:
            raise ValueError(
                f"Received output '{kind}', expected some of {', '.join(OUTPUT_KINDS)}."
            )
        suffix = "_overlay.tif" if (kind == "overlay" and stack) else SUFFIXES[kind]
        paths[kind] = output_dir / f"{stem}{suffix}"
    return paths


def write_probability(path, prob, layout=FrameLayout(), calibration=None):
    """Writes probabilities (T, H, W, K) float32: axes [T]YX, or [T]CYX when K > 1."""
    prob = np.asarray(prob, np.float32)
    data = prob if layout.is_stack else prob[0]
    if prob.shape[-1] == 1:
        data, tail = data[..., 0], "YX"
    else:
        tail = "YXC"
    return write_imagej_tiff(path, data, layout.axes(tail), display_range=(0.0, 1.0),
                             **calibration_kwargs(calibration))


def write_mask(path, mask, layout=FrameLayout(), calibration=None):
    """Writes binary masks (T, H, W) as uint8 0/255."""
    mask = np.asarray(mask, bool)
    data = mask if layout.is_stack else mask[0]
    return write_imagej_tiff(path, data, layout.axes(), **calibration_kwargs(calibration))


def write_labels(path, labels, layout=FrameLayout(), calibration=None):
    """Writes instance labels (T, H, W) as uint16 (float32 beyond 65535 labels), min/max set."""
    labels = np.asarray(labels)
    data = labels if layout.is_stack else labels[0]
    return write_imagej_tiff(path, data, layout.axes(), labels=True,
                             **calibration_kwargs(calibration))


def write_overlay(path, overlay, layout=FrameLayout(), calibration=None):
    """Writes RGB overlays (T, H, W, 3) uint8: a PNG for one frame, an RGB ImageJ TIFF stack."""
    overlay = np.asarray(overlay, np.uint8)
    if not layout.is_stack and Path(path).suffix.lower() == ".png":
        return write_image(path, overlay[0])
    data = overlay if layout.is_stack else overlay[0]
    return write_imagej_tiff(path, data, layout.axes("YXS"), **calibration_kwargs(calibration))
