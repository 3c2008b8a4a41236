"""INI configs generated from KEYS_INI.md (every key the old tool read, its default) all load."""

import re

import pytest

from dl_suite.config import load_config
from dl_suite.config.dialects import KEY_RENAMES, MISSPELLINGS
from dl_suite.config.no_effect import NO_EFFECT
from dl_suite.config.schema import section_properties
from tests.conftest import SHARED

KEYS_FILE = SHARED / "legacy_configs" / "KEYS_INI.md"
ROW = re.compile(r"^\| (\w+) \| `(\w+)` \| (.*?) *\|$")
# Keys without a default in the old tool ("(required or None)") get a value its configs use.
REQUIRED = {
    "image_height": "256", "image_width": "256", "image_channels": "3", "num_classes": "1",
    "base_filters": "16", "num_layers": "6", "learning_rate": "0.0001", "clipvalue": "0.5",
    "loss": '"bce_iou_loss"', "metrics": '["dice_coef", "val_dice_coef"]', "epochs": "10",
    "num_heads": "[4, 8, 8, 8]", "window_size": "[4, 2, 2, 2]", "shift_window": "True",
    "threshold": "60",
}
# Defaults that were expressions in the old tool's code, written as the values they stood for.
EXPRESSIONS = {"self.width": "256", "lr_patience": "5", "dmetrics": '["dice_coef"]'}


def _rows():
    rows = []
    for line in KEYS_FILE.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            rows.append(match.groups())
    return rows


def _value(key, default, variant):
    if default.startswith("(required"):
        return REQUIRED.get(key, "None")
    options = [o.strip() for o in default.split(" / ")]
    value = options[min(variant, len(options) - 1)]
    return EXPRESSIONS.get(value, value)


def _config(rows, variant):
    sections = {}
    for section, key, default in rows:
        sections.setdefault(section, []).append(f"{key} = {_value(key, default, variant)}")
    return "\n\n".join(f"[{s}]\n" + "\n".join(lines) for s, lines in sections.items()) + "\n"


@pytest.mark.skipif(not KEYS_FILE.is_file(), reason="../shared/legacy_configs/KEYS_INI.md not present")
@pytest.mark.parametrize("variant", [0, 1], ids=["first-defaults", "second-defaults"])
def test_every_old_ini_key_with_its_default_loads(tmp_path, variant):
    rows = _rows()
    assert len(rows) > 150
    path = tmp_path / "train_eval_infer.config"
    path.write_text(_config(rows, variant))
    cfg = load_config(path)
    text = "\n".join(cfg.warnings)
    assert "does not know" not in text, text  # every key the old tool read is known
    assert "cannot be parsed" not in text, text
    known = section_properties()
    for section, key, _ in rows:
        fixed = MISSPELLINGS.get((section, key), key)
        target = KEY_RENAMES.get((section, fixed), (section, fixed))
        assert target[1] in known.get(target[0], {}) or f"{section}.{key}" in NO_EFFECT, (section, key)
    assert cfg["model"]["loss"] == "bce_iou"
    assert cfg["train"]["monitor"] == "val_dice_coef"
    assert cfg["model"]["activation"] == "relu"  # "relu" and the class name 'ReLU'


def test_no_effect_keys_are_named_in_the_warning(tmp_path):
    path = tmp_path / "a.config"
    path.write_text("[tiledinfer]\nbitwise_blending = True\n[augmentor]\ntransformer = True\n"
                    "[model]\nfilter_num = [64, 128]\nactivation = mish\n")
    cfg = load_config(path)
    (warning,) = [w for w in cfg.warnings if "has no effect" in w]
    for name in ("[tiledinfer] bitwise_blending", "[augmentor] transformer", "[model] filter_num"):
        assert name in warning
    assert cfg["model"]["activation"] == "mish"
