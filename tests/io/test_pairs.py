"""Pairing infer's outputs with true masks by name (`dl_suite.io.pairs.output_pairs`)."""

import numpy as np
import pytest

from dl_suite.errors import DataError
from dl_suite.io import write_image
from dl_suite.io.pairs import files_by_name, output_pairs


def test_outputs_pair_with_the_true_mask_of_their_name(tmp_path):
    pred, true = tmp_path / "pred", tmp_path / "true"
    blank = np.zeros((8, 8), np.uint8)
    for name in ("a_mask.tif", "a_prob.tif", "b_mask.tif"):
        write_image(pred / name, blank)
    for name in ("a.png", "b.tif", "c.tif"):
        write_image(true / name, blank)
    assert output_pairs(pred, "_mask.tif", true) == [
        ("a", pred / "a_mask.tif", true / "a.png"), ("b", pred / "b_mask.tif", true / "b.tif")]
    assert files_by_name(true, ["a", "z"]) == {"a": true / "a.png"}
    with pytest.raises(DataError, match="No <name>_labels.tif in"):
        output_pairs(pred, "_labels.tif", true)
    (true / "b.tif").unlink()
    with pytest.raises(DataError, match=r"No true mask in .* for b \(named like the image"):
        output_pairs(pred, "_mask.tif", true)
    write_image(true / "a.tif", blank)
    with pytest.raises(DataError, match="'a.png' and 'a.tif' in .* are both the true mask of 'a'"):
        output_pairs(pred, "_mask.tif", true)
