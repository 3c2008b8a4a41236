"""`dl-suite init`: a project folder whose config validates, with scripts; never overwrites."""

import json
import os
import stat

import jsonschema
import numpy as np
import pytest

from dl_suite.cli.main import main
from dl_suite.config import load_config
from dl_suite.config.template import COMMON_KEYS
from dl_suite.io import write_image


@pytest.fixture
def data(tmp_path):
    """Two 40x56 grey training pairs and one RGB test pair."""
    root = tmp_path / "data"
    for i in range(2):
        write_image(root / "images" / f"c{i}.png", np.full((40, 56), 100 + i, np.uint8))
        write_image(root / "masks" / f"c{i}.png", np.zeros((40, 56), np.uint8))
    write_image(root / "test_images" / "t.png", np.zeros((64, 64, 3), np.uint8))
    write_image(root / "test_masks" / "t.png", np.zeros((64, 64), np.uint8))
    return root


def _init(folder, data, *extra):
    return main(["init", str(folder), "--model", "TensorflowAttentionUNet",
                 "--images", str(data / "images"), "--masks", str(data / "masks"), *extra])


def test_init_ini_project_validates_and_has_scripts(tmp_path, data):
    folder = tmp_path / "projects" / "AttentionUNet" / "Cells"
    assert _init(folder, data) == 0
    text = (folder / "train_eval_infer.config").read_text()
    assert text.count("\n; ") > len(COMMON_KEYS)  # every key has its comment
    cfg = load_config(folder / "train_eval_infer.config")
    assert cfg["model"]["name"] == "attention_unet"  # the legacy alias was mapped
    # from the images: 1 channel, the largest multiple of 16 that fits 40 px
    assert (cfg["model"]["image_channels"], cfg["model"]["image_height"], cfg["model"]["image_width"]) == (1, 32, 32)
    assert cfg["train"]["image_datapath"] == str((data / "images").resolve())
    assert cfg["train"]["mask_datapath"] == str((data / "masks").resolve())
    assert cfg["infer"]["images_dir"] == str((data / "images").resolve())
    assert cfg["eval"]["image_datapath"] is None and cfg["eval"]["report_format"] == "html"
    assert '"../../../data/images"' in text  # written relative to the project folder
    assert not cfg.warnings
    for stem in ("1.train", "2.evaluate", "3.infer"):
        sh = folder / f"{stem}.sh"
        assert sh.stat().st_mode & stat.S_IXUSR and os.access(sh, os.X_OK)
        assert sh.read_text().startswith("#!/bin/sh") and "./train_eval_infer.config" in sh.read_text()
        bat = (folder / f"{stem}.bat").read_bytes()
        assert bat.startswith(b"@echo off\r\n") and b"train_eval_infer.config %*" in bat
    assert "`model.name`" in (folder / "README.md").read_text()


def test_init_json_dialect_equals_ini_and_matches_its_schema(tmp_path, data):
    tests = ["--test-images", str(data / "test_images"), "--test-masks", str(data / "test_masks")]
    assert _init(tmp_path / "P" / "ini", data, *tests) == 0
    assert _init(tmp_path / "P" / "json", data, "--dialect", "json", *tests) == 0
    path = tmp_path / "P" / "json" / "train_eval_infer.json"
    document = json.loads(path.read_text())
    assert document["$schema"] == "./dl-suite.schema.json"
    schema = json.loads((tmp_path / "P" / "json" / "dl-suite.schema.json").read_text())
    jsonschema.validate(document, schema)  # what an editor checks
    assert document["model"]["image_channels"] == 1  # training images decide, not test images
    from_json = load_config(path).to_dict()
    from_ini = load_config(tmp_path / "P" / "ini" / "train_eval_infer.config").to_dict()
    in_ini = json.dumps(from_json).replace(str(tmp_path / "P" / "json"), str(tmp_path / "P" / "ini"))
    assert json.loads(in_ini) == from_ini  # the same config, paths relative to each folder
    assert from_json["eval"]["mask_datapath"] == str((data / "test_masks").resolve())


def test_init_refuses_existing_folder_and_unknown_model(tmp_path, data, capsys):
    folder = tmp_path / "exists"
    folder.mkdir()
    (folder / "mine.txt").write_text("keep")
    assert _init(folder, data) == 2
    assert "exists already" in capsys.readouterr().err
    assert [p.name for p in folder.iterdir()] == ["mine.txt"]
    argv = ["init", str(tmp_path / "new"), "--images", str(data / "images"), "--masks", str(data / "masks")]
    assert main(argv + ["--model", "unett"]) == 2
    assert "Did you mean 'unet'?" in capsys.readouterr().err
    assert main(argv[:-1] + [str(tmp_path / "missing"), "--model", "unet"]) == 2
    assert "is not a folder" in capsys.readouterr().err
    (data / "masks" / "c1.png").rename(data / "masks" / "other.png")
    assert main(argv + ["--model", "unet"]) == 2
    err = capsys.readouterr().err
    assert "do not match" in err and "c1.png" in err and "other.png" in err
    assert not (tmp_path / "new").exists()


def test_readme_commands_table_lists_every_command():
    from dl_suite.cli.main import _command_modules, build_parser
    from tests.conftest import REPO

    table = (REPO / "README.md").read_text().split("## Commands\n", 1)[1].split("\n### ", 1)[0]
    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    assert len(commands) == len(_command_modules())
    missing = [c for c in commands if f"| `{c}" not in table]
    assert not missing, f"Add a row for {missing} to the '## Commands' table of README.md."


def test_inspect_data_reads_channels_and_patch_size(data):
    from dl_suite.workflows.init_project import inspect_data

    assert inspect_data(data / "test_images", data / "test_masks") == {
        "num_pairs": 1, "image_channels": 3, "patch_size": 64}
    assert inspect_data(data / "images", data / "masks")["patch_size"] == 32
