"""Scores of a CTC result folder against CTC ground truth: SEG, DET, TRA (py-ctcmetrics) and
division precision / recall / F1.

Ground truth is a folder with `TRA/man_track###.tif` + `TRA/man_track.txt` and optionally
`SEG/man_seg###.tif` (INTEROP.md 4.1). A division is found when a ground-truth mother's last
object is matched (|R n S| > 0.5 |R|, the CTC rule) to a result mother whose daughters, in their
first frame, are matched to the ground-truth daughters, in the same frame.
"""

import contextlib
import io
import logging
from pathlib import Path

import numpy as np

from dl_suite.errors import DataError
from dl_suite.io.ctc_results import read_ctc_masks, read_track_file

logger = logging.getLogger(__name__)


def check_ground_truth(gt_dir):
    """Checks the layout of a CTC ground-truth folder.

    Returns:
        (num_frames, track table (N, 4)).

    Raises:
        DataError: no TRA folder or masks, or a track file referencing a missing frame.
    """
    tra = Path(gt_dir) / "TRA"
    masks = sorted(tra.glob("man_track*.tif")) if tra.is_dir() else []
    if not masks:
        raise DataError(f"'{gt_dir}' is not a CTC ground-truth folder: expected TRA/man_track000.tif "
                        "... and TRA/man_track.txt (and optionally SEG/man_seg000.tif ...).")
    return len(masks), read_track_file(tra / "man_track.txt", num_frames=len(masks))


def _match(ref, comp):
    """Mapping reference label -> computed label with |R n S| > 0.5 |R| (CTC matching)."""
    out = {}
    r, c = ref.ravel(), comp.ravel()
    inside = r > 0
    pairs, counts = np.unique(np.stack([r[inside], c[inside]]), axis=1, return_counts=True)
    sizes = dict(zip(*np.unique(r[inside], return_counts=True)))
    for (ref_label, comp_label), n in zip(pairs.T, counts):
        if comp_label and n > 0.5 * sizes[ref_label]:
            out[int(ref_label)] = int(comp_label)
    return out


def _divisions(table):
    """{mother label: (first frame of the daughters, set of daughter labels)} for >= 2 daughters."""
    children = {}
    for lab, begin, _, parent in table:
        if parent:
            children.setdefault(int(parent), []).append((int(begin), int(lab)))
    return {p: (min(b for b, _ in kids), {lab for _, lab in kids})
            for p, kids in children.items() if len(kids) >= 2}


def division_scores(res_dir, gt_dir):
    """Division precision, recall and F1 (NaN where undefined) and the counts."""
    num_frames, gt_table = check_ground_truth(gt_dir)
    res_table = read_track_file(Path(res_dir) / "res_track.txt")
    gt_masks = read_ctc_masks(Path(gt_dir) / "TRA", "man_track")
    res_masks = read_ctc_masks(res_dir, "mask")
    gt_div, res_div = _divisions(gt_table), _divisions(res_table)
    gt_end = {int(r[0]): int(r[2]) for r in gt_table}
    res_by_frame = {}
    for mother, (frame, kids) in res_div.items():
        res_by_frame.setdefault(frame, []).append((mother, kids))
    matches = {}
    true_pos = 0
    for mother, (frame, kids) in gt_div.items():
        end = gt_end[mother]
        if end not in res_masks or frame not in res_masks:
            continue
        for t in (end, frame):
            if t not in matches:
                matches[t] = _match(gt_masks[t], res_masks[t])
        res_mother = matches[end].get(mother)
        res_kids = {matches[frame].get(k) for k in kids}
        if any(res_mother == m and None not in res_kids and res_kids <= rk
               for m, rk in res_by_frame.get(frame, [])):
            true_pos += 1
    precision = true_pos / len(res_div) if res_div else float("nan")
    recall = true_pos / len(gt_div) if gt_div else float("nan")
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else (
        0.0 if (gt_div or res_div) else float("nan"))
    return {"division_precision": precision, "division_recall": recall, "division_f1": f1,
            "divisions_true": true_pos, "divisions_gt": len(gt_div), "divisions_found": len(res_div)}


def ctc_scores(res_dir, gt_dir):
    """SEG (if GT SEG exists), DET, TRA and the AOGM parts with py-ctcmetrics, plus divisions.

    Raises:
        DataError: bad ground-truth layout, or a result folder py-ctcmetrics rejects.
    """
    from ctc_metrics import evaluate_sequence

    check_ground_truth(gt_dir)
    metrics = ["Valid", "DET", "TRA"]
    if sorted((Path(gt_dir) / "SEG").glob("man_seg*.tif")):
        metrics.insert(1, "SEG")
    with contextlib.redirect_stdout(io.StringIO()) as chatter:  # py-ctcmetrics prints its results
        result = evaluate_sequence(str(res_dir), str(gt_dir), metrics=metrics, threads=1)
    logger.debug("py-ctcmetrics: %s", chatter.getvalue().strip())
    if not result.get("Valid"):
        raise DataError(f"'{res_dir}' is not a valid CTC result (py-ctcmetrics Valid = 0).")
    scores = {k: float(v) for k, v in result.items()
              if k in ("SEG", "DET", "TRA") or k.startswith("AOGM")}
    scores.update(division_scores(res_dir, gt_dir))
    return scores
