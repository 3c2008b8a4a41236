"""`convert`: a config written in another dialect reads back with the same meaning."""

import json

import pytest

from dl_suite.config import load_config
from dl_suite.config.convert import convert
from tests.conftest import SHARED

LEGACY = sorted((SHARED / "legacy_configs").glob("*/*")) if SHARED.is_dir() else []
LEGACY = [p for p in LEGACY if p.suffix in (".config", ".json")]


def _round_trip(cfg, target, tmp_path):
    text, notes = convert(cfg, target, relative_to=tmp_path)
    suffix = ".config" if target == "ini" else ".json"
    path = tmp_path / f"converted_{target}{suffix}"
    path.write_text(text)
    return load_config(path), text, notes


@pytest.mark.parametrize("path", LEGACY, ids=[p.name for p in LEGACY])
@pytest.mark.parametrize("target", ["canonical", "ini"])
def test_round_trip_keeps_the_meaning(path, target, tmp_path):
    cfg = load_config(path)
    again, text, _ = _round_trip(cfg, target, tmp_path)
    assert again.to_dict() == cfg.to_dict()
    if target == "ini":
        for section, key, _, _ in cfg.no_effect:
            assert f"; [{section}] {key} = " in text and "has no effect" in text


@pytest.mark.parametrize("path", [p for p in LEGACY if p.suffix == ".json"], ids=lambda p: p.name)
def test_legacy_json_round_trip(path, tmp_path):
    cfg = load_config(path)
    again, text, notes = _round_trip(cfg, "json", tmp_path)
    assert "cnn_name" in json.loads(text)
    changed = [n.split(":")[0] for n in notes]
    for section in cfg:
        for key, value in cfg[section].items():
            if f"{section}.{key}" not in changed:
                assert again[section][key] == value, (section, key)


def test_ini_conversion_of_a_canonical_config(tmp_path):
    path = tmp_path / "a.json"
    path.write_text(json.dumps({"model": {"name": "attention_unet", "loss": "bce_iou", "base_kernels": [5, 5]},
                                "infer": {"threshold": 0.4}, "train": {"create_backup": True}}))
    cfg = load_config(path)
    again, text, _ = _round_trip(cfg, "ini", tmp_path)
    assert "[model]\nname = 'attention_unet'" in text and "threshold = 0.4" in text
    assert "; [train] create_backup = True: accepted for compatibility, has no effect" in text
    assert again.to_dict() == cfg.to_dict()
    with pytest.raises(ValueError, match="expected one of canonical, ini, json"):
        convert(cfg, "yaml")


@pytest.mark.parametrize("target", ["canonical", "ini", "json"])
def test_paths_written_relative_to_the_converted_files_folder(target, tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    source = project / "a.config"
    source.write_text('[train]\ndatapath = "../data/train"\nmodel_dir = "./models"\n')
    cfg = load_config(source)
    text, _ = convert(cfg, target)  # printed: relative to the source's folder, as written
    assert str(tmp_path) not in text
    assert "../data/train" in text
    elsewhere = tmp_path / "other" / "place"
    elsewhere.mkdir(parents=True)
    text, _ = convert(cfg, target, relative_to=elsewhere)
    assert "../../data/train" in text and "../../project/models" in text
    out = elsewhere / ("b.config" if target == "ini" else "b.json")
    out.write_text(text)
    again = load_config(out)
    assert again["train"]["datapath"] == cfg["train"]["datapath"]
    assert again["train"]["model_dir"] == cfg["train"]["model_dir"]
