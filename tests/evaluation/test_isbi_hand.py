"""V_Rand / V_Info against numbers computed by hand on a 6x6 example (README convention)."""

import numpy as np
import pytest

from dl_suite.evaluation import evaluate_images, isbi_scores, isbi_table
from dl_suite.evaluation.isbi import components_table


def _columns(membrane_column):
    mask = np.ones((6, 6), np.uint8)
    mask[:, membrane_column] = 0
    return mask


def test_isbi_six_by_six_by_hand():
    # True: membrane in column 2 (already one pixel wide, thinning keeps it). Cells:
    #   A = columns 0-1 (12 px), B = columns 3-5 (18 px); column 2 is not scored -> N = 30.
    # Predicted: membrane in column 4. Cells: 1 = columns 0-3, 2 = column 5; each pixel of the
    #   predicted membrane takes the largest neighbouring label, max(1, 2) = 2, so cell
    #   2 = columns 4-5.
    # Table (true rows A, B; predicted columns 1, 2): A = [12, 0], B = [6 (column 3), 12].
    #   p = [12, 6, 12] / 30 = [0.4, 0.2, 0.4]; s = [0.4, 0.6]; t = [0.6, 0.4].
    #   V_Rand = (0.16 + 0.04 + 0.16) / (0.5 * 0.52 + 0.5 * 0.52) = 0.36 / 0.52 = 9 / 13.
    #   H(S) = H(T) = -(0.4 ln 0.4 + 0.6 ln 0.6) = 0.6730117; H(S, T) = -(2 * 0.4 ln 0.4 +
    #   0.2 ln 0.2) = 1.0549201; I = 2 * 0.6730117 - 1.0549201 = 0.2911033;
    #   V_Info = I / H(S) = 0.4325381.
    true, pred = _columns(2), _columns(4)
    np.testing.assert_array_equal(isbi_table(pred, true), [[12, 0], [6, 12]])
    scores = isbi_scores(pred, true)
    assert scores["v_rand"] == pytest.approx(9 / 13, abs=1e-12)
    assert scores["v_info"] == pytest.approx(0.4325381, abs=1e-7)
    assert isbi_scores(true, true) == {"v_rand": 1.0, "v_info": 1.0, "v_rand_cc": 1.0}


def test_isbi_pooled_over_images_by_hand():
    # Image 1 is the example above; image 2 has no membrane at all (one true and one
    # predicted cell of 36 px). Pooled V_Rand counts pixel pairs within each image:
    #   pair counts n^2: 144 + 36 + 144 (image 1) + 1296 (image 2) = 1620;
    #   true cells 144 + 324 + 1296 = 1764 = predicted cells 324 + 144 + 1296;
    #   V_Rand = 1620 / 1764 = 45 / 49 = 0.918, while the mean over images is
    #   (9 / 13 + 1) / 2 = 0.846: pooling weighs pixels, not images.
    # Pooled V_Info weights each image's I and H by its pixel share (30/66, 36/66); image 2
    #   has I = H = 0, so V_Info = (30/66 * 0.2911033) / (30/66 * 0.6730117) = 0.4325381,
    #   the value of image 1 (the mean over images would be (0.4325381 + 1) / 2).
    rows, summary = evaluate_images(
        [_columns(4) > 0, np.ones((6, 6), bool)], [_columns(2), np.ones((6, 6), np.uint8)],
        scores=("isbi",))
    assert rows[0]["v_rand"] == pytest.approx(9 / 13) and rows[1]["v_rand"] == 1.0
    assert summary["isbi"]["v_rand"] == pytest.approx(45 / 49, abs=1e-12)
    assert summary["isbi"]["v_rand_mean"] == pytest.approx((9 / 13 + 1) / 2, abs=1e-12)
    assert summary["isbi"]["v_info"] == pytest.approx(0.4325381, abs=1e-7)
    assert summary["isbi"]["v_info_mean"] == pytest.approx((0.4325381 + 1) / 2, abs=1e-7)


def test_isbi_membrane_reaching_the_border_keeps_the_cells_apart():
    # True: a 3-pixel membrane band, columns 3-5, from the top row to the bottom row of an
    # 8x8 image: two cells. Thinned without regard to the border, the band's skeleton stops
    # two rows short of the bottom edge and the two cells join into one true "cell"; the
    # border counts as membrane while thinning, so the skeleton (column 4) reaches both edges.
    # Predicted: membrane in column 4 only -> the same two cells: V_Rand = V_Info = 1.
    true = np.ones((8, 8), np.uint8)
    true[:, 3:6] = 0
    pred = np.ones((8, 8), np.uint8)
    pred[:, 4] = 0
    # The true skeleton is column 4 plus one pixel where it bends at the bottom (row 7,
    # column 3): left cell 32 - 1 = 31 px, right cell columns 5-7 = 24 px, both kept whole.
    np.testing.assert_array_equal(isbi_table(pred, true), [[31, 0], [0, 24]])
    assert isbi_scores(pred, true) == {"v_rand": 1.0, "v_info": 1.0, "v_rand_cc": 1.0}


def test_harsher_reading_by_hand_and_as_skimage_reads_it():
    # The 6x6 example without thinning: true cells A = columns 0-1 (12 px), B = columns 3-5
    # (18 px), column 2 not scored. Predicted 4-connected components: 1 = columns 0-3, 2 =
    # column 5, and the predicted membrane (column 4, label 0) is a segment of its own.
    # Table (rows A, B; columns 0, 1, 2): A = [0, 12, 0], B = [6, 6, 6]; N = 30 pixels.
    #   Pairs without replacement (skimage): sum n^2 - N = 144 + 3 * 36 - 30 = 222; rows
    #   144 + 324 - 30 = 438; columns 36 + 324 + 36 - 30 = 366;
    #   v_rand_cc = 2 * 222 / (438 + 366) = 111 / 201 = 0.552 (thinned V_Rand: 9 / 13).
    from skimage.measure import label
    from skimage.metrics import adapted_rand_error

    true, pred = _columns(2), _columns(4)
    np.testing.assert_array_equal(components_table(pred, true), [[0, 12, 0], [6, 6, 6]])
    with pytest.raises(ValueError, match="equal shapes"):
        components_table(pred[:, :5], true)
    assert isbi_scores(pred, true)["v_rand_cc"] == pytest.approx(111 / 201, abs=1e-12)
    skimage_error = adapted_rand_error(label(true, connectivity=1), label(pred, connectivity=1))[0]
    assert 1 - skimage_error == pytest.approx(111 / 201, abs=1e-12)
    # Pooled over two copies: each image's predicted membrane is its own segment, so the
    # pooled value equals the single image's (one membrane segment across both images would
    # count 12^2 - 12 instead of 2 * (6^2 - 6) pairs: 888 / (876 + 804) = 0.529).
    rows, summary = evaluate_images([pred > 0, pred > 0], [true, true], scores=("isbi",))
    assert [r["v_rand_cc"] for r in rows] == pytest.approx([111 / 201, 111 / 201], abs=1e-12)
    assert summary["isbi"]["v_rand_cc"] == pytest.approx(111 / 201, abs=1e-12)
    assert summary["isbi"]["v_rand_cc_mean"] == pytest.approx(111 / 201, abs=1e-12)
