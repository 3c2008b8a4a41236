"""track(cfg): label video (or raw video, segmented first) -> tracks, measurements, exports, scores.

Results of one video go to `<output_dir>/<video>_tracks/` (`_tracks_2`, ... when it exists:
earlier results are never replaced). The folder is assembled under a hidden temporary name and
renamed at the end, so a results folder under its final name is always complete.
"""

import logging
import time
from pathlib import Path

from dl_suite.errors import DataError, UserError
from dl_suite.io.files import atomic_folder
from dl_suite.io.label_hyperstack import read_label_video, read_video
from dl_suite.io.tables import write_json
from dl_suite.tracking.export import export_tracks
from dl_suite.tracking.linking import (
    TrackingParams,
    max_distance_physical,
    track_labels,
)
from dl_suite.tracking.scores import ctc_scores
from dl_suite.tracking.spots import scale_from_calibration
from dl_suite.tracking.tracks import track_table

logger = logging.getLogger(__name__)


def _stem(path):
    path = Path(path)
    name = path.name
    for suffix in (".ome.tiff", ".ome.tif", ".tiff", ".tif"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def segment_video(cfg, image_path, output_dir, run=None):
    """Segments a raw video with the infer workflow and reads back its `<stem>_labels.tif`.

    Returns:
        (labels (T, Y, X), Calibration).
    """
    from dl_suite.workflows.infer import infer

    image_path = Path(image_path)
    if not image_path.is_file():
        raise UserError(f"To segment before tracking, tracking.image must be one video file "
                        f"(TIFF, axes TYX); received '{image_path}'. Or pass --labels VIDEO.")
    report = infer(cfg, run=run, input_path=str(image_path), output_dir=output_dir)
    if report["failed"]:
        reason = "; ".join(f"{k}: {v}" for k, v in report["failures"].items())
        raise DataError(f"Segmenting '{image_path.name}' before tracking failed ({reason}).")
    labels_path = Path(output_dir) / f"{image_path.stem}_labels.tif"
    if not labels_path.is_file():
        raise DataError(f"Segmentation wrote no label video '{labels_path.name}': set "
                        "segmentation.instance_method so inference writes instance labels.")
    return read_label_video(labels_path)


def _fresh_folder(output_dir, stem):
    output_dir = Path(output_dir)
    candidate, n = output_dir / f"{stem}_tracks", 2
    while candidate.exists():
        candidate, n = output_dir / f"{stem}_tracks_{n}", n + 1
    return candidate


def track(cfg, *, labels_path=None, image_path=None, output_dir=None, ground_truth=None, run=None):
    """Tracks the cells of one video and writes every export (see dl_suite.tracking.export).

    Args:
        cfg: validated Config ([tracking] section; [infer] etc. when segmenting first).
        labels_path, image_path, output_dir, ground_truth: override tracking.labels, .image,
            .output_dir, .ground_truth.
        run: run folder of the model used to segment (default: the latest run).

    Returns:
        dict: folder, files {kind: path}, num_spots, num_tracks, num_divisions, scores, times.

    Raises:
        UserError / DataError: nothing to track, unreadable or inconsistent videos, bad GT.
    """
    section = cfg["tracking"]
    params = TrackingParams.from_config(section)
    params.check()
    labels_path = labels_path or section["labels"]
    image_path = image_path or section["image"]
    output_dir = Path(output_dir or section["output_dir"] or "tracks")
    ground_truth = ground_truth or section["ground_truth"]
    if not labels_path and not image_path:
        raise UserError("Nothing to track: set tracking.labels (a label video) or tracking.image "
                        "(a raw video to segment first) in the config, or pass --labels/--image.")
    times = {}
    image = image_cal = None
    if image_path:
        image, image_cal = read_video(image_path, what="image")
    start = time.perf_counter()
    if labels_path:
        labels, calibration = read_label_video(labels_path)
    else:
        seg_dir = output_dir / f"{_stem(image_path)}_segmentation"
        labels, calibration = segment_video(cfg, image_path, seg_dir, run=run)
        times["segment_s"] = time.perf_counter() - start
    if image is not None and image.shape != labels.shape:
        raise DataError(f"The image video {image.shape} and the label video {labels.shape} differ "
                        "in frames or size (T, Y, X); give the raw video the labels were made from.")
    if calibration.pixel_size is None and image_cal is not None and image_cal.pixel_size is not None:
        calibration = image_cal
    scale = scale_from_calibration(calibration)
    start = time.perf_counter()
    tracks = track_labels(labels, params, scale, image=image)
    times["track_s"] = time.perf_counter() - start
    stem = _stem(labels_path or image_path)
    final = _fresh_folder(output_dir, stem)
    with atomic_folder(final) as tmp:
        start = time.perf_counter()
        tracker = {"max_distance": max_distance_physical(params, scale), "max_gap": params.max_gap,
                   "divisions": params.divisions}
        files = export_tracks(tmp, stem, tracks, labels, image=image, calibration=calibration,
                              tracker=tracker, image_folder=final)
        times["export_s"] = time.perf_counter() - start
        scores = {}
        if ground_truth:
            start = time.perf_counter()
            scores = ctc_scores(files["ctc_dir"], ground_truth)
            times["score_s"] = time.perf_counter() - start
        table = track_table(tracks)
        summary = {
            "labels": str(Path(labels_path).resolve()) if labels_path else None,
            "image": str(Path(image_path).resolve()) if image_path else None,
            "tracking": {k: getattr(params, k) for k in TrackingParams.__dataclass_fields__},
            "unit": scale.unit, "time_unit": scale.time_unit,
            "num_frames": int(labels.shape[0]), "num_spots": len(tracks.spots),
            "num_tracks": len(table), "num_divisions": tracks.num_divisions,
            "scores": scores, "times": times,
        }
        files["summary"] = write_json(tmp / f"{stem}_summary.json", summary)
    files = {kind: final / Path(path).name for kind, path in files.items()}
    logger.debug("Tracked %d spots into %d tracks (%d divisions): %s", len(tracks.spots),
                len(table), tracks.num_divisions, final)
    return {"folder": final, "files": files, "num_spots": len(tracks.spots),
            "num_tracks": len(table), "num_divisions": tracks.num_divisions,
            "scores": scores, "times": times}
