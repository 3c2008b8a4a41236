"""Division precision / recall / F1 and ground-truth checks."""

import numpy as np
import pytest

from dl_suite.errors import DataError
from dl_suite.io.ctc_results import read_track_file, write_ctc_results
from dl_suite.tracking.scores import check_ground_truth, division_scores
from tests.tracking.fixtures import division_video, gap_video, write_ground_truth


def _result(folder, masks, rows):
    return write_ctc_results(folder, np.asarray(masks, np.uint16), rows)


def test_division_scores_true_and_false_positive(tmp_path):
    video = division_video()
    gt = write_ground_truth(tmp_path / "GT", video)
    masks = np.where(video == 4, 2, np.where(video == 2, 3, np.where(video == 3, 4, video)))
    exact = _result(tmp_path / "exact", masks, [(1, 0, 2, 0), (2, 0, 5, 0), (3, 3, 5, 1), (4, 3, 5, 1)])
    assert division_scores(exact, gt)["division_f1"] == 1.0
    # the still cell (label 2) is made to "divide" at frame 3 into 2 pieces: one false division
    masks2 = masks.copy()
    still = masks2[3:] == 2
    half = np.zeros_like(still)
    half[:, :, :32] = True
    masks2[3:][still & half] = 5
    masks2[3:][still & ~half] = 6
    fp = _result(tmp_path / "fp", masks2, [(1, 0, 2, 0), (2, 0, 2, 0), (3, 3, 5, 1), (4, 3, 5, 1),
                                           (5, 3, 5, 2), (6, 3, 5, 2)])
    scores = division_scores(fp, gt)
    assert (scores["divisions_true"], scores["divisions_found"], scores["divisions_gt"]) == (1, 2, 1)
    assert scores["division_precision"] == 0.5 and scores["division_recall"] == 1.0
    assert scores["division_f1"] == pytest.approx(2 / 3, abs=1e-12)


def test_no_divisions_anywhere_is_undefined(tmp_path):
    video = gap_video()
    gt = write_ground_truth(tmp_path / "GT", video)
    masks = np.asarray(video, np.uint16).copy()
    masks[4:][masks[4:] == 1] = 3
    res2 = _result(tmp_path / "res2", masks, [(1, 0, 2, 0), (2, 0, 5, 0), (3, 4, 5, 1)])
    scores = division_scores(res2, gt)
    assert scores["divisions_gt"] == 0 and scores["divisions_found"] == 0
    assert np.isnan(scores["division_precision"]) and np.isnan(scores["division_f1"])


def test_track_file_with_missing_frame_is_named(tmp_path):
    gt = write_ground_truth(tmp_path / "GT", division_video())
    (gt / "TRA" / "man_track005.tif").unlink()
    with pytest.raises(DataError, match=r"track \d+ runs to frame 5, but only frames 0..4 exist"):
        check_ground_truth(gt)


def test_malformed_track_file(tmp_path):
    path = tmp_path / "res_track.txt"
    path.write_text("1 0 2 0\n2 0 x 1\n")
    with pytest.raises(DataError, match="line 2"):
        read_track_file(path)
    path.write_text("1 0 2 0\n2 3 4 7\n")
    with pytest.raises(DataError, match="parent 7, which is not a track"):
        read_track_file(path)


def test_not_a_ground_truth_folder(tmp_path):
    with pytest.raises(DataError, match="TRA/man_track000.tif"):
        check_ground_truth(tmp_path)


def test_mask_names_switch_to_four_digits_beyond_999_frames():
    from dl_suite.io.ctc_results import mask_name

    assert mask_name(7, 999) == "mask007.tif" and mask_name(7, 1000) == "mask0007.tif"
    assert mask_name(12, 20, prefix="man_track") == "man_track012.tif"
