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
    with pytest.raises(ConfigError) as info:
        load_config(ini / "TensorflowSlightlyFlexibleUNet__DeepCell.config")
    text = "\n".join(info.value.problems)
    assert "[augmentor] angles = [90. 180, 270,]" in text and "Did you mean [90, 180, 270]" in text
    with pytest.raises(ConfigError) as info:
        load_config(shared_dir / "legacy_configs" / "json" / "config_template.json")
    assert any("cnn_name" in p and "mobilenet_mobileunet_lstm" in p for p in info.value.problems)
    cfg = load_config(shared_dir / "legacy_configs" / "json" / "config_mobilenet_lstm_1.json")
    assert cfg["model"]["name"] == "mobilenet_mobileunet_lstm"
    assert cfg["model"]["time_windows"] == 5
    assert cfg["model"]["num_classes"] == 2 and cfg["model"]["num_layers"] == 6
