"""CTC conversion and result folder: INTEROP.md 4.5 and 5 acceptance checks on our own output."""

import re

import numpy as np
import pytest
import tifffile

from dl_suite.tracking.ctc import ctc_pieces
from dl_suite.tracking.linking import TrackingParams, track_labels
from dl_suite.tracking.scores import ctc_scores
from tests.tracking.fixtures import FRAMES, division_video, export_video, gap_video, write_ground_truth


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = {}
    for name, video in (("division", division_video()), ("gap", gap_video())):
        folder = tmp_path_factory.mktemp(name)
        out[name] = (folder, video) + export_video(folder, video, name=name)
    return out


def _rows(folder):
    return [tuple(map(int, line.split())) for line in (folder / "res_track.txt").read_text().splitlines()]


def test_division_rows_name_the_mother():
    rows, _ = ctc_pieces(track_labels(division_video().astype(np.int32), TrackingParams()))
    # mother 1 (frames 0-2), still cell 2, daughters 3 and 4 from frame 3 with P = 1
    assert rows.values.tolist() == [[1, 0, 2, 0], [2, 0, 5, 0], [3, 3, 5, 1], [4, 3, 5, 1]]


def test_gap_is_split_into_parent_linked_pieces():
    video = gap_video().astype(np.int32)
    rows, _ = ctc_pieces(track_labels(video, TrackingParams(max_gap=1)))
    assert rows.values.tolist() == [[1, 0, 2, 0], [2, 4, 5, 1], [3, 0, 5, 0]]
    rows, _ = ctc_pieces(track_labels(video, TrackingParams(max_gap=0)))
    assert rows.values.tolist() == [[1, 0, 2, 0], [2, 0, 5, 0], [3, 4, 5, 0]]


@pytest.mark.parametrize("name", ["division", "gap"])
def test_result_folder_acceptance(exported, name):
    _, video, tracks, files = exported[name]
    res = files["ctc_dir"]
    tifs = sorted(p.name for p in res.glob("*.tif"))
    assert tifs == [f"mask{t:03d}.tif" for t in range(FRAMES)]  # check 1
    assert sorted(p.name for p in res.iterdir()) == tifs + ["res_track.txt"]
    text = (res / "res_track.txt").read_text()
    assert all(re.fullmatch(r"\d+ \d+ \d+ \d+", line) for line in text.split("\n")[:-1])
    assert text.endswith("\n") and "\t" not in text and " \n" not in text
    rows = _rows(res)
    by_label = {r[0]: r for r in rows}
    assert len(by_label) == len(rows) and min(by_label) >= 1  # check 3
    for lab, begin, end, parent in rows:
        assert begin <= end
        if parent:
            assert by_label[parent][2] < begin
    for t in range(FRAMES):
        mask = tifffile.imread(res / f"mask{t:03d}.tif")
        assert mask.dtype == np.uint16 and mask.shape == video.shape[1:]  # check 2
        assert 0 in mask and mask.max() < 65535
        expected = {lab for lab, begin, end, _ in rows if begin <= t <= end}
        assert set(np.unique(mask)) - {0} == expected  # checks 4 and 8
        # relabelling kept the objects' pixels: same foreground as the input frame
        assert np.array_equal(mask > 0, video[t] > 0)


@pytest.mark.parametrize("name", ["division", "gap"])
def test_validate_and_self_evaluation(exported, name, tmp_path):
    from ctc_metrics import validate_sequence

    _, video, _, files = exported[name]
    assert validate_sequence(str(files["ctc_dir"]), threads=1)["Valid"] == 1  # check 6
    gt = write_ground_truth(tmp_path / "GT", video)
    scores = ctc_scores(files["ctc_dir"], gt)  # check 7
    assert (scores["SEG"], scores["DET"], scores["TRA"]) == (1.0, 1.0, 1.0)


def test_tra_without_divisions_hand_computed(tmp_path):
    """Division fixture tracked without divisions vs the true lineage.

    GT graph: 15 vertices, 13 edges -> AOGM_0 = 10 * 15 + 1.5 * 13 = 169.5. The result links the
    mother to one daughter as the same track (1 edge of wrong semantics, EC = 1) and misses the
    edge to the other daughter (EA = 1.5): AOGM = 2.5, TRA = 1 - 2.5 / 169.5.
    """
    video = division_video()
    gt = write_ground_truth(tmp_path / "GT", video)
    _, files = export_video(tmp_path / "res", video, name="nodiv", divisions=False)
    scores = ctc_scores(files["ctc_dir"], gt)
    assert scores["AOGM_0"] == 169.5 and scores["AOGM"] == 2.5
    assert scores["TRA"] == pytest.approx(1 - 2.5 / 169.5, abs=1e-12)
    assert scores["DET"] == 1.0 and scores["SEG"] == 1.0
    assert (scores["division_recall"], scores["division_f1"], scores["divisions_gt"]) == (0.0, 0.0, 1)
