"""Every legacy config builds the model it names (at a reduced image size via --set)."""

from pathlib import Path

import keras
import pytest

from dl_suite.models import build_model, input_multiple

LEGACY = Path(__file__).resolve().parents[2] / ".." / "shared" / "legacy_configs"
LEGACY = LEGACY if LEGACY.is_dir() else Path("/work/shared/legacy_configs")
FILES = sorted(p for p in LEGACY.glob("*/*") if p.suffix in (".config", ".json"))

# Real user mistakes the loader rightly rejects; fixed with --set, or in a copy of the file
# where the value cannot be parsed at all (as the user would edit it).
FIXES = {"config_template.json": ["model.name=mobilenet_mobileunet_lstm"]}
TEXT_FIXES = {"TensorflowSlightlyFlexibleUNet__DeepCell.config": ("[90. 180, 270,]", "[90, 180, 270]")}
# EfficientNet-B7 (67M parameters) is built by test_zoo already; here only with -m slow.
SLOW = {"TensorflowEfficientNetB7UNet__Acute-Lymphoblastic-Leukemia.config"}
EXPECTED = {
    "TensorflowAttentionUNet": "attention_unet",
    "TensorflowDeepLabV3Plus": "deeplabv3plus",
    "TensorflowEfficientNetB7UNet": "efficientnetb7_unet",
    "TensorflowEfficientUNet": "efficient_unet",
    "TensorflowMultiResUNet": "multires_unet",
    "TensorflowSharpUNet": "sharp_unet",
    "TensorflowSlightlyFlexibleUNet": "unet",
    "TensorflowSwinUNet": "swin_unet",
    "TensorflowTransUNet": "transunet",
    "TensorflowU2Net": "unet3plus",  # the user's file names TensorflowUNet3Plus in [model]
    "TensorflowUNet3Plus": "unet3plus",
    "config": "mobilenet_mobileunet_lstm",
}


@pytest.mark.skipif(not FILES, reason="legacy configs not available")
@pytest.mark.parametrize("path", [
    pytest.param(p, marks=pytest.mark.slow) if p.name in SLOW else p for p in FILES],
    ids=[p.name for p in FILES])
def test_legacy_config_builds_its_model(path, tmp_path):
    if path.name in TEXT_FIXES:
        old, new = TEXT_FIXES[path.name]
        fixed = tmp_path / path.name
        fixed.write_text(path.read_text().replace(old, new))
        path = fixed
    load_config = pytest.importorskip("dl_suite.config").load_config
    overrides = FIXES.get(path.name, [])
    section = dict(load_config(path, overrides)["model"])
    assert section["name"] == EXPECTED[path.name.split("__")[0].split("_mobilenet")[0]
                                       .split("_template")[0]]
    side = max(64, input_multiple(section["name"], **section))
    overrides += [f"model.image_height={side}", f"model.image_width={side}"]
    section = dict(load_config(path, overrides)["model"])
    shape = (section["image_height"], section["image_width"], section["image_channels"])
    model = build_model(section["name"], shape, **section)
    assert model.output_shape[-3:-1] == (side, side)
    keras.backend.clear_session()
