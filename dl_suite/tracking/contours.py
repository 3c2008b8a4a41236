"""Outer contours of labelled objects as polygons through pixel corners (TrackMate's convention).

A pixel (r, c) covers [c - 0.5, c + 0.5] x [r - 0.5, r + 0.5]; the polygon follows the outer
boundary of the largest 4-connected part of a label, so its area is that part's pixel count
(holes included) and its centroid is the mean of its pixel centres.
"""

import numpy as np
from scipy import ndimage
from skimage.measure import regionprops

# Direction vectors (dr, dc) for boundary edges, and the order to try at a corner where two
# boundary paths meet diagonally: turn right first keeps the loop around one 4-connected part.
_TURN_ORDER = {(0, 1): ((1, 0), (0, 1), (-1, 0)), (1, 0): ((0, -1), (1, 0), (0, 1)),
               (0, -1): ((-1, 0), (0, -1), (1, 0)), (-1, 0): ((0, 1), (-1, 0), (0, -1))}


def _largest_part(mask):
    parts, count = ndimage.label(mask)
    if count <= 1:
        return mask
    sizes = np.bincount(parts.ravel())[1:]
    return parts == (int(np.argmax(sizes)) + 1)


def _boundary_edges(mask):
    """Directed boundary edges (clockwise on screen, y down) keyed by start corner (r, c)."""
    padded = np.pad(mask, 1)
    inner = padded[1:-1, 1:-1]
    out = {}
    sides = (  # neighbour offset, edge start corner offset, direction
        ((-1, 0), (0, 0), (0, 1)),   # top side, left -> right
        ((0, 1), (0, 1), (1, 0)),    # right side, top -> bottom
        ((1, 0), (1, 1), (0, -1)),   # bottom side, right -> left
        ((0, -1), (1, 0), (-1, 0)),  # left side, bottom -> top
    )
    for (dr, dc), (sr, sc), direction in sides:
        neighbour = padded[1 + dr:padded.shape[0] - 1 + dr, 1 + dc:padded.shape[1] - 1 + dc]
        for r, c in np.argwhere(inner & ~neighbour):
            out.setdefault((int(r) + sr, int(c) + sc), []).append(direction)
    return out


def outer_contour(mask):
    """Vertices (x, y) of the outer boundary of the largest part of a boolean mask.

    Args:
        mask: 2-D bool array (a crop is fine; add its offset to the result).

    Returns:
        float array (n, 2) of corner coordinates in pixel units (pixel centres at integers),
        collinear points removed, first vertex not repeated.
    """
    mask = _largest_part(np.asarray(mask, bool))
    edges = _boundary_edges(mask)
    start = min(edges)  # top-left corner: on the outer boundary
    corner, direction = start, (0, 1)
    points = []
    while True:
        options = edges[corner]
        choice = next(d for d in _TURN_ORDER[direction] if d in options) if len(options) > 1 else options[0]
        options.remove(choice)
        if choice != direction or not points:
            points.append(corner)
        direction = choice
        corner = (corner[0] + choice[0], corner[1] + choice[1])
        if corner == start:
            break
    rc = np.array(points, dtype=float) - 0.5
    return rc[:, ::-1].copy()


def polygon_area_centroid(xy):
    """Shoelace area (absolute) and centroid of a closed polygon (n, 2)."""
    x, y = xy[:, 0], xy[:, 1]
    x1, y1 = np.roll(x, -1), np.roll(y, -1)
    cross = x * y1 - x1 * y
    area = cross.sum() / 2.0
    if area == 0:
        return 0.0, (float(x.mean()), float(y.mean()))
    cx = ((x + x1) * cross).sum() / (6 * area)
    cy = ((y + y1) * cross).sum() / (6 * area)
    return abs(float(area)), (float(cx), float(cy))


def polygon_perimeter(xy):
    """Length of a closed polygon (n, 2)."""
    return float(np.hypot(*(np.roll(xy, -1, axis=0) - xy).T).sum())


def spot_contours(labels, spots):
    """Outer contour (x, y in pixels, absolute) of every spot of a tracked label video.

    Returns:
        dict spot_id -> float array (n, 2).
    """
    out = {}
    for t, group in spots.groupby("frame"):
        frame = labels[int(t)]
        # regionprops, not find_objects: label values may be large (find_objects lists 1..max)
        boxes = {region.label: region.slice for region in regionprops(frame)}
        for spot_id, label in zip(group["spot_id"], group["label"]):
            box = boxes[int(label)]
            xy = outer_contour(frame[box] == label)
            out[int(spot_id)] = xy + np.array([box[1].start, box[0].start], dtype=float)
    return out
