"""`[dataset] axes`: the override of the image axes rules, validated when the config loads."""

import pytest

from dl_suite.config import ConfigError, load_config


@pytest.mark.parametrize("axes", ["TYX", "yxc", "TZCYX", None])
def test_valid_axes_load(tmp_path, axes):
    line = f'axes = "{axes}"\n' if axes else ""
    path = tmp_path / "a.config"
    path.write_text(f'[model]\nmodel = "unet"\n[dataset]\n{line}')
    assert load_config(path)["dataset"]["axes"] == axes


@pytest.mark.parametrize("axes", ["TQX", "TYY", "TX", "TTYX"])
def test_invalid_axes_are_explained(tmp_path, axes):
    path = tmp_path / "a.config"
    path.write_text(f'[model]\nmodel = "unet"\n[dataset]\naxes = "{axes}"\n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    text = str(info.value)
    assert f"dataset.axes (written as [dataset] axes): '{axes}' is not valid" in text
    assert "must contain Y and X" in text
