"""Spots: one row per labelled object per frame, measured with scikit-image regionprops.

Positions follow TrackMate's convention (INTEROP.md 1.4): pixel centres at integer x calibration,
so a centroid (r, c) is at (y, x) = (r * dy, c * dx) in physical units; the radius is that of a
disk of equal area, QUALITY the area in pixels.
"""

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import ndimage
from skimage.measure import regionprops_table

logger = logging.getLogger(__name__)

SPOT_PROPERTIES = ("label", "centroid", "area", "perimeter", "eccentricity", "solidity", "image")


@dataclass(frozen=True)
class Scale:
    """Physical pixel size and frame interval (pixels and frames when uncalibrated)."""

    dy: float = 1.0
    dx: float = 1.0
    unit: str = "pixel"
    dt: float = 1.0
    time_unit: str = "frame"

    @property
    def calibrated(self):
        return self.unit != "pixel"


def scale_from_calibration(calibration, warn=True):
    """A `Scale` from a `dl_suite.io.Calibration`; pixels (said once) when it has no pixel size."""
    px = getattr(calibration, "pixel_size", None)
    dt = getattr(calibration, "frame_interval", None)
    if px is None:
        if warn:
            logger.warning("The video has no pixel-size calibration: distances, speeds and "
                           "positions are in pixels.")
        dy = dx = 1.0
        unit = "pixel"
    else:
        dx = float(px)
        dy = float(getattr(calibration, "pixel_height", None) or px)
        unit = calibration.unit or "um"
    if dt:
        return Scale(dy, dx, unit, float(dt), getattr(calibration, "time_unit", None) or "sec")
    return Scale(dy, dx, unit)


def measure_spots(labels, image=None, scale=Scale()):
    """Measures every object of every frame.

    Args:
        labels: int array (T, Y, X), 0 = background.
        image: optional raw video (T, Y, X) for the mean intensity (NaN without it).
        scale: physical pixel size and frame interval.

    Returns:
        DataFrame with spot_id (0..N-1), frame, label, row, col (pixel centroid), y, x
        (physical), area, perimeter (pixels), area_phys, perimeter_phys, radius, eccentricity,
        solidity, mean_intensity, num_components, sorted by frame then label.
    """
    tables = []
    for t in range(labels.shape[0]):
        props = list(SPOT_PROPERTIES)
        kwargs = {}
        if image is not None:
            props.append("intensity_mean")
            kwargs["intensity_image"] = image[t].astype(np.float64)
        table = pd.DataFrame(regionprops_table(labels[t], properties=props, **kwargs))
        table.insert(0, "frame", t)
        tables.append(table)
    spots = pd.concat(tables, ignore_index=True)
    spots = spots.rename(columns={"centroid-0": "row", "centroid-1": "col",
                                  "intensity_mean": "mean_intensity"})
    if "mean_intensity" not in spots:
        spots["mean_intensity"] = np.nan
    spots["num_components"] = [int(ndimage.label(crop)[1]) for crop in spots.pop("image")]
    several = int((spots["num_components"] > 1).sum())
    if several:
        logger.warning("%d object(s) have several separate parts in one frame; each is one spot "
                       "at its overall centroid, its contour is that of the largest part.", several)
    spots = spots.sort_values(["frame", "label"], ignore_index=True)
    spots.insert(0, "spot_id", np.arange(len(spots)))
    spots["y"] = spots["row"] * scale.dy
    spots["x"] = spots["col"] * scale.dx
    spots["area"] = spots["area"].astype(int)
    spots["area_phys"] = spots["area"] * scale.dx * scale.dy
    spots["perimeter_phys"] = spots["perimeter"] * np.sqrt(scale.dx * scale.dy)
    spots["radius"] = np.sqrt(spots["area_phys"] / np.pi)
    return spots
