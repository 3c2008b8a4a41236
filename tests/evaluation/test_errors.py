import numpy as np
import pytest

from dl_suite.evaluation.errors import instance_errors


def test_each_cause_is_counted_once():
    true = np.zeros((64, 64), np.int32)
    pred = np.zeros_like(true)
    true[2:12, 2:12] = 1; pred[2:12, 2:12] = 1            # matched
    true[20:23, 2:5] = 2                                  # tiny (9 px), not predicted
    true[30:38, 2:10] = 3                                 # missed
    true[2:10, 30:38] = 4; true[2:10, 40:48] = 5          # merged: one prediction over both
    pred[2:10, 30:48] = 2
    true[20:30, 30:40] = 6                                # split in two halves (IoU 0.5 each)
    pred[20:30, 30:35] = 3; pred[20:30, 35:40] = 4
    true[40:50, 30:40] = 7; pred[40:50, 30:54] = 5        # boundary: prediction 2.4x too wide
    pred[55:60, 55:60] = 6                                # extra: on background
    pred[2:4, 10:14] = 7                                  # extra: a speck touching object 1
    counts = instance_errors(pred, true)
    assert counts == {"matched": 1, "tiny": 1, "missed": 1, "merged": 2, "split": 1,
                      "boundary": 1, "extra": 2, "true": 7, "pred": 7}
    # "tiny" is tested first: a limit of 100 px takes the missed and the two merged 64 px objects
    counts = instance_errors(pred, true, tiny=100)
    assert (counts["tiny"], counts["missed"], counts["merged"]) == (4, 0, 0)


def test_perfect_prediction_and_shape_check():
    true = np.zeros((16, 16), np.int32)
    true[2:8, 2:8], true[9:14, 9:14] = 1, 2
    assert instance_errors(true, true) == {"matched": 2, "tiny": 0, "missed": 0, "merged": 0,
                                           "split": 0, "boundary": 0, "extra": 0, "true": 2, "pred": 2}
    with pytest.raises(ValueError, match="same shape"):
        instance_errors(true, true[:8])
