"""Tracks -> Cell Tracking Challenge labels: one label per gap-free piece (INTEROP.md 4.2).

A CTC label may not skip frames, so a gap-closed segment is cut at each gap: the piece after
the gap gets a new label whose parent is the piece before it (this is how TrackMate's
CTCExporter encodes gaps). A daughter's first piece has the mother's last piece as parent.
"""

import numpy as np
import pandas as pd
from skimage.util import map_array


def ctc_pieces(tracks):
    """Splits segments at gaps and numbers the pieces from 1.

    Returns:
        (rows, spot_labels): rows = DataFrame L, B, E, P (ints, P = 0 for none), ordered by L;
        spot_labels = Series spot_id -> L.
    """
    spots = tracks.spots.sort_values(["track_id", "frame"])
    last_piece, rows, spot_label = {}, [], {}
    next_label = 1
    order = tracks.segments.sort_values(["start", "track_id"])  # mothers start before daughters
    parent_of = dict(zip(tracks.segments["track_id"], tracks.segments["parent_track_id"]))
    by_segment = {k: g for k, g in spots.groupby("track_id")}
    for track_id in order["track_id"]:
        group = by_segment[track_id]
        frames = group["frame"].to_numpy()
        cuts = np.flatnonzero(np.diff(frames) > 1) + 1
        parent = last_piece.get(parent_of[track_id], 0)
        for piece in np.split(np.arange(len(frames)), cuts):
            label = next_label
            next_label += 1
            rows.append((label, int(frames[piece[0]]), int(frames[piece[-1]]), parent))
            for spot_id in group["spot_id"].to_numpy()[piece]:
                spot_label[int(spot_id)] = label
            parent = label
        last_piece[track_id] = parent
    table = pd.DataFrame(rows, columns=["L", "B", "E", "P"], dtype=int)
    return table, pd.Series(spot_label, name="ctc_label").sort_index()


def relabel_video(labels, tracks, spot_labels):
    """The label video with each spot's pixels set to its new label (dropped spots -> 0).

    Args:
        labels: the tracked label video (T, Y, X).
        tracks: Tracks made from it.
        spot_labels: Series spot_id -> new label (e.g. from `ctc_pieces`).

    Returns:
        uint16 array (uint32 above 65535 labels) of the same shape.
    """
    top = int(spot_labels.max()) if len(spot_labels) else 0
    out = np.zeros(labels.shape, np.uint16 if top <= 65535 else np.uint32)
    spots = tracks.spots.assign(new=tracks.spots["spot_id"].map(spot_labels))
    for t, group in spots.groupby("frame"):
        out[int(t)] = map_array(labels[int(t)], group["label"].to_numpy(),
                                group["new"].to_numpy().astype(out.dtype))
    return out
