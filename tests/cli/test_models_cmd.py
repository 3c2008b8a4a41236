"""`dl-suite models` and `dl-suite inspect`."""

import argparse
from pathlib import Path

import pytest

from dl_suite.cli import inspect_cmd, models_cmd

LEGACY_INI = Path("/work/shared/legacy_configs/ini")


def _parse(module, argv):
    parser = argparse.ArgumentParser()
    module.add_parser(parser.add_subparsers())
    return parser.parse_args(argv)


def test_models_lists_params_and_gflops(capsys):
    args = _parse(models_cmd, ["models", "--tiny", "--size", "32", "unet", "TensorflowU2Net"])
    assert args.run(args) == 0
    out = capsys.readouterr().out
    assert "unet" in out and "u2net" in out and "GFLOPs" in out
    rows = models_cmd.model_rows(["unet"], size=32, tiny=True)
    name, _, params, gflops, side, _ = rows[0]
    assert (name, params, side) == ("unet", 7_709, 32) and gflops > 0


@pytest.mark.skipif(not LEGACY_INI.is_dir(), reason="legacy configs not available")
def test_inspect_writes_summary(tmp_path, capsys):
    config = LEGACY_INI / "TensorflowAttentionUNet__Acute-Lymphoblastic-Leukemia.config"
    args = _parse(inspect_cmd, [
        "inspect", str(config), "--out", str(tmp_path), "--set", "model.image_height=32",
        "--set", "model.image_width=32", "--set", "model.base_filters=2",
        "--set", "model.num_layers=3"])
    assert args.run(args) == 0
    summary = (tmp_path / "attention_unet_summary.txt").read_text()
    assert "dec0_att_gate" in summary and "GFLOPs" in summary
    assert "graph:" in capsys.readouterr().out
