"""`dl-suite convert`: writes the other dialect, never over an existing file."""

from dl_suite.cli.main import main
from dl_suite.config import load_config


def test_convert_writes_ini_and_refuses_to_overwrite(tmp_path, capsys):
    source = tmp_path / "a.json"
    source.write_text('{"cnn_name": "categorical_unet_x", "model_n_filters": 8, "model_lossfunction": "bce_iou_loss"}')
    target = tmp_path / "a.config"
    assert main(["convert", str(source), "--to", "ini", "--output", str(target)]) == 0
    cfg = load_config(target)
    assert (cfg["model"]["name"], cfg["model"]["base_filters"], cfg["model"]["loss"]) == ("categorical_unet", 8, "bce_iou")
    before = target.read_text()
    assert main(["convert", str(source), "--to", "canonical", "--output", str(target)]) == 2
    assert target.read_text() == before
    captured = capsys.readouterr()
    assert "never overwrites" in captured.err + captured.out
