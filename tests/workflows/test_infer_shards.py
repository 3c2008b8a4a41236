"""`dl-suite infer --shard I/N`: shards split the inputs, their union is one unsharded run."""

import shutil

import numpy as np
import pytest

from dl_suite.cli.main import main
from dl_suite.config import load_config
from dl_suite.inference.batch import InferenceOptions, infer_paths
from dl_suite.inference.shards import Shard, parse_shard
from dl_suite.io import write_image, write_text
from dl_suite.io.pairs import list_images
from dl_suite.workflows import runs
from tests.workflows.conftest import TINY


def test_shards_partition_the_sorted_inputs():
    paths = [f"{i}.tif" for i in range(7)]
    taken = [Shard(i, 3).select(paths) for i in (1, 2, 3)]
    assert [[p.name for p in t] for t in taken] == [["0.tif", "3.tif", "6.tif"],
                                                    ["1.tif", "4.tif"], ["2.tif", "5.tif"]]
    groups = [["a0", "a1"], ["b0"], ["c0", "c1"]]  # video frames stay together
    assert [p.name for p in Shard(1, 2).select([p for g in groups for p in g], groups)] == ["a0", "a1", "c0", "c1"]
    assert parse_shard(" 2/8 ") == Shard(2, 8) and parse_shard(None) is None
    assert Shard(2, 8).report_name("inference_report.json") == "inference_report_shard-2-of-8.json"


@pytest.mark.parametrize("text", ["0/3", "4/3", "1/0", "2", "a/b", "-1/3"])
def test_bad_shard_is_one_clear_message(tmp_path, capsys, text):
    assert main(["infer", str(tmp_path / "missing.config"), f"--shard={text}"]) == 2
    err = capsys.readouterr().err
    assert "--shard" in err and "Traceback" not in err


def _segment(paths, output_dir, shard=None):
    def predictor(batch):  # deterministic and input-dependent: a stand-in for a model
        return 1.0 / (1.0 + np.exp(-(batch[..., :1] - batch.mean())))

    options = InferenceOptions(progress=False, whole_image=True, normalize=lambda f: f / 255.0)
    return infer_paths(paths, output_dir, predictor, options, shard=shard)


def test_three_shards_equal_one_unsharded_run(tmp_path):
    rng = np.random.default_rng(0)
    images = tmp_path / "images"
    images.mkdir()
    for i in range(5):
        write_image(images / f"img{i}.png", rng.integers(0, 255, (24, 20), dtype=np.uint8))
    write_image(images / "img0.tif", rng.integers(0, 255, (24, 20), dtype=np.uint8))  # same stem
    paths = list_images(images)
    assert len(_segment(paths, tmp_path / "whole").written) == 6
    done = [_segment(paths, tmp_path / "sharded", Shard(i, 3)).written for i in (1, 2, 3)]
    assert sorted(p for d in done for p in d) == paths and [len(d) for d in done] == [2, 2, 2]
    again = _segment(paths, tmp_path / "sharded", Shard(2, 3))  # resumable: nothing redone
    assert not again.written and len(again.skipped) == 2

    def files(folder):
        return {p.name: p.read_bytes() for p in (tmp_path / folder).iterdir()
                if not p.name.startswith("inference_report")}

    whole, sharded = files("whole"), files("sharded")
    assert len(whole) >= 6 * 3 and sorted(whole) == sorted(sharded)
    assert "img0_tif_mask.tif" in whole and "img0_png_mask.tif" in whole
    assert all(whole[name] == sharded[name] for name in whole)
    reports = sorted(p.name for p in (tmp_path / "sharded").glob("inference_report*"))
    assert reports == [f"inference_report_shard-{i}-of-3.json" for i in (1, 2, 3)]


def test_cli_shard_segments_only_its_share(tiny_project, monkeypatch, capsys):
    monkeypatch.chdir(tiny_project)
    run_dir = _untrained_run(load_config(tiny_project / "project.config", TINY))
    images = tiny_project / "many"
    images.mkdir()
    test = min((tiny_project / "data" / "test" / "images").iterdir())
    for i in range(5):
        shutil.copy(test, images / f"img{i}{test.suffix}")
    assert main(["infer", "project.config", "--run", str(run_dir), "--input", str(images),
                 "--output", "out", "--shard", "2/3"]) == 0
    assert "Shard 2/3" in capsys.readouterr().out
    masks = sorted(p.name for p in (tiny_project / "out").glob("*_mask.tif"))
    assert masks == ["img1_mask.tif", "img4_mask.tif"]


def _untrained_run(cfg):
    """A run folder (config.json + a seeded, untrained model.keras): inference needs no training."""
    import keras

    from dl_suite.models import build_model

    keras.utils.set_random_seed(0)
    section = dict(cfg["model"])
    name, num_classes = section.pop("name"), section.pop("num_classes")
    model = build_model(name, (32, 32, 1), num_classes, **section)
    run_dir = runs.create_run(cfg["train"]["model_dir"])
    write_text(run_dir / runs.CONFIG_FILE, cfg.to_json())
    model.save(run_dir / "model.keras")
    return run_dir
