"""The example configs in `configs/` load cleanly, mean what their names say, and build.

Also keeps `requirements.txt` equal to pyproject.toml's runtime dependencies.
"""

import json
from pathlib import Path

import pytest

from dl_suite.config import load_config
from dl_suite.config.dialects import match_cnn_name

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "configs"
SUFFIXES = (".config", ".ini", ".json")
EXAMPLES = sorted(p.name for p in CONFIGS.iterdir() if p.suffix in SUFFIXES)


def check_unet_binary(cfg, path):
    model = cfg["model"]
    assert (model["name"], model["num_classes"], model["loss"]) == ("unet", 1, "bce_dice")
    assert cfg["generator"]["target_type"] == "segmentation" and cfg["generator"]["augmentation"]
    assert cfg["train"]["jit_compile"] == "fastest"  # XLA where it is faster (timed)
    assert cfg["augmentor"]["vflip"] and cfg["augmentor"]["rotation"]
    assert cfg["eval"]["optimise_threshold"] and cfg["segmentation"]["threshold_method"] == "run"
    assert cfg["train"]["val_image_datapath"] == str(CONFIGS / "data" / "valid" / "images")
    assert cfg["tiledinfer"]["enabled"] and cfg["tiledinfer"]["tta"] == "flips"


def check_unet_binary_json(cfg, path):
    check_unet_binary(cfg, path)
    # the same config as the INI file, in canonical JSON
    assert cfg.to_dict() == load_config(CONFIGS / "unet_binary.config").to_dict()
    schema = json.loads(path.read_text())["$schema"]
    assert (path.parent / schema).resolve() == ROOT / "docs" / "dl-suite.schema.json"


def check_contours(cfg, path):
    from dl_suite.data.targets import target_num_classes

    assert cfg["generator"]["target_type"] == "contours" and cfg["model"]["num_classes"] == 3
    assert target_num_classes(cfg["generator"]["target_type"], cfg["model"]["num_classes"]) == 3
    assert cfg["segmentation"]["instance_method"] == "watershed"
    assert "instance" in cfg["eval"]["scores"] and cfg["eval"]["threshold_metric"] == "f1_50"
    assert cfg["eval"]["split_grid"][0] == cfg["segmentation"]["min_distance"]  # untuned value first


def check_attention(cfg, path):
    assert cfg["model"]["name"] == "attention_unet" and cfg["model"]["image_channels"] == 3
    assert (cfg["model"]["optimizer"], cfg["train"]["lr_schedule"]) == ("adamw", "cosine")


def check_video(cfg, path):
    from dl_suite.workflows.video_data import is_video_model

    assert cfg["model"]["name"] == "unet_lstm" and is_video_model(cfg["model"]["name"])
    assert cfg["model"]["time_windows"] == 5 and cfg["generator"]["time_padding"] == "mirror"
    assert cfg["train"]["datapath"] == str(CONFIGS / "data" / "ctc_train")
    tracking = cfg["tracking"]
    assert tracking["method"] == "lap" and tracking["divisions"] and tracking["labels"] is None
    assert tracking["image"] == str(CONFIGS / "data" / "test" / "videos" / "movie.tif")
    assert tracking["output_dir"] == str(CONFIGS / "tracks")
    assert cfg["segmentation"]["instance_method"] != "none"  # tracking needs instance labels


def check_robustness(cfg, path):
    section = cfg["robustness"]
    assert "gaussian_noise" in section["families"] and section["attacks"]
    # every severity of a noise family needs its SNR (dl_suite.workflows.corrupt.family_level)
    assert len(section["snr_levels"]) >= max(section["severities"])
    assert section["split"] == "eval" and cfg["eval"]["image_datapath"]
    assert section["training"] == "none"


def check_legacy(cfg, path):
    data = json.loads(path.read_text())
    assert "cnn_name" in data and "TRAINPATH" in data and "model" not in data  # flat dialect
    assert cfg["model"]["name"] == match_cnn_name(data["cnn_name"]) == data["cnn_name"]
    assert cfg["model"]["num_layers"] == data["model_pools"] + 1
    assert cfg["model"]["num_classes"] == len(data["model_category_weights"]) == 2
    assert cfg["model"]["loss"] == "sparse_cce" and cfg["model"]["metrics"] == ["pixel_accuracy"]
    assert cfg["train"]["datapath"] == str(CONFIGS / "data" / "train")
    assert cfg["generator"]["patch_size"] == data["datagen_dim_size"]
    assert cfg["mask"]["binarize"] is True  # 2 categories of instance ids: label > 0
    assert (cfg["image"]["p_low"], cfg["image"]["p_high"]) == (0.1, 99.1)


CHECKS = {
    "unet_binary.config": check_unet_binary,
    "unet_binary.json": check_unet_binary_json,
    "unet_contours_instances.config": check_contours,
    "attention_unet.config": check_attention,
    "convlstm_video.config": check_video,
    "robustness.config": check_robustness,
    "legacy_flat.json": check_legacy,
}
# Warnings a file is expected to give (every file here is written to give none).
EXPECTED_WARNINGS = {}


def test_every_example_has_a_check_and_a_readme_line():
    assert sorted(CHECKS) == EXAMPLES
    readme = (CONFIGS / "README.md").read_text()
    assert all(f"`{name}`" in readme for name in EXAMPLES)


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_loads_cleanly_and_means_what_its_name_says(name):
    path = CONFIGS / name
    cfg = load_config(path)  # raises ConfigError listing every problem
    assert cfg.warnings == EXPECTED_WARNINGS.get(name, [])
    assert cfg.no_effect == []
    CHECKS[name](cfg, path)


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_model_builds_at_a_tiny_size(name):
    from dl_suite.models import build_model
    from dl_suite.workflows.video_data import is_video_model

    model = dict(load_config(CONFIGS / name)["model"])
    shape = (32, 32, model["image_channels"])
    if is_video_model(model["name"]):
        shape = (model["time_windows"], *shape)  # (time, height, width, channels)
    net = build_model(model["name"], shape, model["num_classes"],
                      **{**model, "base_filters": 4, "num_layers": min(model["num_layers"], 3)})
    assert net.output_shape[-1] == model["num_classes"]
    assert tuple(net.input_shape[1:]) == shape


def test_requirements_txt_equals_pyproject_dependencies():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    with open(ROOT / "pyproject.toml", "rb") as f:
        dependencies = tomllib.load(f)["project"]["dependencies"]
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    requirements = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    assert requirements == dependencies
