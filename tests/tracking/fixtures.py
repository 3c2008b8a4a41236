"""Tiny hand-made label videos (40 x 40 px, 6 frames) with known tracks."""

import numpy as np

SIZE = 40
FRAMES = 6


def disk(frame, centre, radius, label):
    rr, cc = np.ogrid[:SIZE, :SIZE]
    frame[(rr - centre[0]) ** 2 + (cc - centre[1]) ** 2 <= radius**2] = label


def division_video():
    """Cell 1 moves right (frames 0-2) and divides into labels 2 (up) and 3 (down) at frame 3;
    cell 4 sits still in the lower-right corner all along (an undivided track)."""
    video = np.zeros((FRAMES, SIZE, SIZE), np.uint16)
    for t in range(3):
        disk(video[t], (15, 8 + 2 * t), 5, 1)
    for t in range(3, FRAMES):
        disk(video[t], (9 - (t - 3), 14 + (t - 3)), 4, 2)
        disk(video[t], (21 + (t - 3), 14 + (t - 3)), 4, 3)
    for t in range(FRAMES):
        disk(video[t], (32, 32), 4, 4)
    return video


def gap_video():
    """Cell 1 moves right 2 px per frame and is missing in frame 3 (a one-frame gap);
    cell 2 sits still at the bottom, so no frame is empty."""
    video = np.zeros((FRAMES, SIZE, SIZE), np.uint16)
    for t in range(FRAMES):
        if t != 3:
            disk(video[t], (10, 6 + 2 * t), 4, 1)
        disk(video[t], (30, 20), 5, 2)
    return video


def export_video(folder, video, name="video", image=None, calibration=None, **params):
    """Tracks a fixture video and writes every export into `folder`; returns (tracks, files)."""
    from dl_suite.tracking.export import export_tracks
    from dl_suite.tracking.linking import TrackingParams, track_labels
    from dl_suite.tracking.spots import scale_from_calibration

    video = np.asarray(video, np.int32)
    scale = scale_from_calibration(calibration, warn=False)
    tracks = track_labels(video, TrackingParams(**params), scale, image=image)
    files = export_tracks(folder, name, tracks, video, image=image, calibration=calibration,
                          tracker={"max_distance": 15.0, "max_gap": 1, "divisions": True})
    return tracks, files


def write_ground_truth(folder, video, **params):
    """A CTC ground-truth folder (TRA + SEG) made from a fixture tracked with `params`."""
    from dl_suite.io.ctc_results import write_ctc_results
    from dl_suite.tracking.ctc import ctc_pieces, relabel_video
    from dl_suite.tracking.linking import TrackingParams, track_labels

    video = np.asarray(video, np.int32)
    tracks = track_labels(video, TrackingParams(**params))
    rows, spot_labels = ctc_pieces(tracks)
    masks = relabel_video(video, tracks, spot_labels)
    write_ctc_results(folder / "TRA", masks, rows.to_numpy(), track_file="man_track.txt",
                      prefix="man_track")
    write_ctc_results(folder / "SEG", masks, [], track_file=None, prefix="man_seg")
    return folder
