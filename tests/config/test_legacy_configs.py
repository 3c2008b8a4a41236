"""Every real config of the tools we replace loads: accepted, or rejected with a clear message."""

import pytest

from dl_suite.config import ConfigError, load_config
from tests.conftest import SHARED

LEGACY = sorted((SHARED / "legacy_configs").glob("*/*")) if SHARED.is_dir() else []


@pytest.mark.parametrize("path", LEGACY, ids=[p.name for p in LEGACY])
def test_legacy_config_loads_or_explains(path):
    try:
        cfg = load_config(path)
    except ConfigError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert "." in problem or "[" in problem  # names the key or section
        return
    assert cfg["model"]["name"]


def test_expected_outcomes(shared_dir):
    ini = shared_dir / "legacy_configs" / "ini"
    assert load_config(ini / "TensorflowSlightlyFlexibleUNet__Acute-Lymphoblastic-Leukemia.config")["model"]["name"] == "unet"
    cfg = load_config(ini / "TensorflowSlightlyFlexibleUNet__DeepCell.config")
    text = "\n".join(cfg.warnings)
    assert "[augmentor] angles = [90. 180, 270,]" in text and "Likely fix: angles = [90, 180, 270]" in text
    assert cfg["train"]["monitor"] == "val_dice_coef" and cfg["train"]["monitor_mode"] == "max"
    assert cfg["infer"]["output_dir"].endswith("mini_test_output_tiled")  # [tiledinfer] wins
    assert cfg["segmentation"]["overlay_style"] == "colorize"
    cfg = load_config(shared_dir / "legacy_configs" / "json" / "config_template.json")
    assert cfg["model"]["name"] == "mobilenet_mobileunet_lstm"
    assert any("cnn_name 'mobilenet_mobileunet_lstm_'" in w for w in cfg.warnings)
    cfg = load_config(shared_dir / "legacy_configs" / "json" / "config_mobilenet_lstm_1.json")
    assert cfg["model"]["name"] == "mobilenet_mobileunet_lstm"
    assert cfg["model"]["time_windows"] == 5
    assert cfg["model"]["num_classes"] == 2 and cfg["model"]["num_layers"] == 6
