"""Video scorecards: rows per frame (video, frame) and per-video means in the same summary."""

import numpy as np
import pytest

from dl_suite.data.windows import window_indices
from dl_suite.evaluation import rows_to_csv, write_report
from dl_suite.evaluation.video import group_frames, predict_videos, score_videos, split_frame_name
from dl_suite.inference.video import VideoSpec


def _frames(pred_pixels, true_pixels):
    """One 4x4 frame pair: `pred_pixels` and `true_pixels` foreground pixels of row 0.. (flat)."""
    prob, true = np.zeros(16, np.float32), np.zeros(16, np.uint8)
    prob[list(pred_pixels)] = 0.9
    true[list(true_pixels)] = 1
    return prob.reshape(4, 4), true.reshape(4, 4)


def _video(pairs):
    frames = [_frames(p, t) for p, t in pairs]
    return np.stack([f[0] for f in frames]), np.stack([f[1] for f in frames])


def test_rows_per_frame_and_per_video_means_hand_computed():
    # dice per frame: 2*tp / (2*tp + fp + fn)
    a = _video([(range(4), range(4)), (range(2), range(4)), ([], range(2))])  # 1, 2/3, 0
    b = _video([(range(8), range(4))])  # 2*4 / (8 + 4) = 2/3
    rows, summary = score_videos([("a", a[0] > 0.5, a[1]), ("b", b[0] > 0.5, b[1])], scores=("pixel",))
    assert [(r["image"], r["video"], r["frame"]) for r in rows] == [
        ("a#0", "a", 0), ("a#1", "a", 1), ("a#2", "a", 2), ("b#0", "b", 0)]
    assert list(rows[0])[:3] == ["image", "video", "frame"]
    dice = [r["dice"] for r in rows]
    assert dice == pytest.approx([1.0, 2 / 3, 0.0, 2 / 3], abs=1e-9)
    assert summary["num_videos"] == 2 and summary["num_images"] == 4
    assert summary["videos"]["a"]["num_frames"] == 3
    assert summary["videos"]["a"]["mean"]["dice"] == pytest.approx((1 + 2 / 3 + 0) / 3, abs=1e-9)
    assert summary["videos"]["b"]["mean"]["dice"] == pytest.approx(2 / 3, abs=1e-9)
    assert summary["mean"]["dice"] == pytest.approx((1 + 2 / 3 + 0 + 2 / 3) / 4, abs=1e-9)
    assert "frame" not in summary["mean"] and "frame" not in summary["videos"]["a"]["mean"]
    csv = rows_to_csv(rows).splitlines()
    assert csv[0].startswith("image,video,frame,")
    assert csv[-1].startswith("mean,,,")  # no mean of frame indices


def test_report_has_a_per_video_table(tmp_path):
    a = _video([(range(4), range(4)), ([], range(4))])
    rows, summary = score_videos([("movie", a[0] > 0.5, a[1])], scores=("pixel",))
    paths = write_report(tmp_path, rows, summary)
    text = paths["report"].read_text()
    assert "## Per video" in text and "| movie | 2 | 0.5000" in text


def test_mismatched_frame_counts_are_refused():
    prob, true = _video([(range(2), range(2))] * 2)
    with pytest.raises(ValueError, match="2 predicted frames but 1 mask"):
        score_videos([("v", prob, true[:1])])


def test_frames_are_grouped_by_video_in_frame_order():
    names = ["b#1", "a#0", "b#0", "a#10", "a#2", "single"]
    assert group_frames(names) == {"b": [2, 0], "a": [1, 4, 3], "single": [5]}
    assert split_frame_name("x#y#3") == ("x#y", 3) and split_frame_name("c#d") == ("c#d", 0)


def test_predict_videos_windows_stay_inside_their_video():
    names = [f"v1#{t}" for t in range(6)] + [f"v2#{t}" for t in range(4)]
    images = [np.full((8, 8, 1), 10 * v + t, np.float32)
              for v, count in ((1, 6), (2, 4)) for t in range(count)]
    spec = VideoSpec(time_windows=3, frame_model=False, padding="mirror")

    def spy(batch):  # returns the window's frame values as 3 channels
        return np.moveaxis(batch[..., 0], 1, -1)

    probs = predict_videos(names, images, spy, spec, tile_size=8, halo=0, overlap=0)
    for name, prob in zip(names, probs):
        video, t = split_frame_name(name)
        base, count = (10, 6) if video == "v1" else (20, 4)
        np.testing.assert_array_equal(prob[0, 0], base + window_indices(t, 3, count, "mirror"))
