import numpy as np
import pytest

from dl_suite.data.side_by_side import join_side_by_side, split_side_by_side
from dl_suite.data.windows import VideoSegmentationDataset, window_indices
from dl_suite.errors import DataError


def test_window_padding():
    assert window_indices(0, 3, 10, "mirror").tolist() == [2, 1, 0]
    assert window_indices(1, 4, 10, "mirror").tolist() == [2, 1, 0, 1]
    assert window_indices(0, 3, 10, "repeat").tolist() == [0, 0, 0]
    assert window_indices(5, 3, 10, "repeat").tolist() == [3, 4, 5]
    with pytest.raises(ValueError, match="mirror"):
        window_indices(0, 3, 10, "reflect")


def test_video_dataset_window_shapes_and_lock_step():
    rng = np.random.default_rng(0)
    masks = (rng.random((4, 32, 32)) > 0.5).astype(np.uint8)
    video = masks.astype(np.float32)[..., None]
    ds = VideoSegmentationDataset([video], [masks], time_windows=3, batch_size=2,
                                  patch_size=(16, 16), seed=1)
    x, y = ds[0]
    assert x.shape == (2, 3, 16, 16, 1) and y.shape == (2, 16, 16, 1)
    # the last frame of each window is frame t, whose mask is the target
    assert np.array_equal(x[:, -1, ..., 0] > 0.5, y[..., 0] > 0.5)


def test_side_by_side_round_trip():
    image = np.arange(24, dtype=np.uint8).reshape(4, 6)
    mask = (image % 2).astype(np.uint8)
    for direction in ("AtoB", "BtoA"):
        joined = join_side_by_side(image, mask, direction)
        got_image, got_mask = split_side_by_side(joined, direction)
        assert np.array_equal(got_image, image) and np.array_equal(got_mask, mask)
    assert np.array_equal(split_side_by_side(join_side_by_side(image, mask))[0], image)
    with pytest.raises(DataError, match="even"):
        split_side_by_side(np.zeros((4, 5)))
