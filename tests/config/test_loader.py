import json

import pytest

from dl_suite.config import ConfigError, canonical_schema, config_from_dict, load_config
from dl_suite.config.schema import defaults


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_defaults_filled_and_paths_resolved_relative_to_config(tmp_path):
    sub = tmp_path / "project"
    sub.mkdir()
    path = write(sub, "a.config", '[model]\nmodel = "TensorflowUNet"\n[train]\nimage_datapath = "../data/images"\n')
    cfg = load_config(path)
    assert cfg["model"]["name"] == "unet"
    assert cfg["train"]["epochs"] == defaults()["train"]["epochs"]
    assert cfg["train"]["image_datapath"] == str((tmp_path / "data" / "images").resolve())
    assert cfg["train"]["model_dir"] == str((sub / "models").resolve())


def test_ini_literals_parsed_safely(tmp_path):
    path = write(tmp_path, "a.config", "[model]\nbase_kernels = (5,5)\nbatch_norm = False\ndropout_rate = 0.1\n"
                 '[train]\nmodel_dir = ./runs\n; a comment\nmetrics = ["dice_coef"]  ; inline comment\n')
    cfg = load_config(path)
    assert cfg["model"]["base_kernels"] == [5, 5]
    assert cfg["model"]["batch_norm"] is False
    assert cfg["train"]["metrics"] == ["dice_coef"]
    assert cfg["train"]["model_dir"].endswith("runs")


def test_true_false_in_any_case_are_booleans_in_ini_and_set(tmp_path):
    path = write(tmp_path, "a.config", "[model]\nbatch_norm = false\n[train]\nepoch_change_infer = TRUE\n")
    cfg = load_config(path, ["train.jit_compile=true", "train.save_best_only=False"])
    assert cfg["model"]["batch_norm"] is False
    assert cfg["train"]["epoch_change_infer"] is True
    assert cfg["train"]["jit_compile"] is True
    assert cfg["train"]["save_best_only"] is False


def test_stray_top_level_key_in_canonical_json_is_an_error_not_a_dialect_switch(tmp_path):
    data = {"model": {"name": "attention_unet"}, "epochs": 5, "trian": 3}
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, "a.json", json.dumps(data)))
    text = "\n".join(info.value.problems)
    assert len(info.value.problems) == 2, text
    assert "'epochs' (given 5)" in text and '"train": {"epochs": 5}' in text
    assert "'trian' (given 3)" in text


def test_eval_is_never_used(tmp_path):
    marker = tmp_path / "pwned"
    path = write(tmp_path, "a.config", f'[train]\nepochs = __import__("os").mkdir("{marker}")\n')
    cfg = load_config(path)  # the old tool's fallback: a warning and the default
    assert cfg["train"]["epochs"] == defaults()["train"]["epochs"]
    assert any("[train] epochs = __import__" in w for w in cfg.warnings)
    assert not marker.exists()


def test_all_errors_reported_at_once_with_keys_values_and_hints(tmp_path):
    data = {"model": {"name": "unet", "num_layer": 4, "loss": "dice_los"},
            "train": {"epochs": -3, "batch_size": "four"}, "trian": {"x": 1}}
    path = write(tmp_path, "a.json", json.dumps(data))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    problems = info.value.problems
    assert len(problems) == 5, problems
    text = "\n".join(problems)
    assert "model.num_layer" in text and "Did you mean 'num_layers'" in text
    assert "'dice_los'" in text and "Did you mean 'dice'" in text
    assert "train.epochs" in text and "-3" in text and "at least 1" in text
    assert "train.batch_size" in text and "'four'" in text and "whole number" in text
    assert "[trian]" in text and "Did you mean 'train'" in text


def test_ini_unknown_keys_are_one_warning_but_bad_values_stay_errors(tmp_path):
    path = write(tmp_path, "a.config", "[model]\nmodel = \"unet\"\nnum_layer = 4\nloss = \"dice_los\"\n"
                 "[train]\nepochs = -3\n[trian]\nx = 1\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    text = "\n".join(info.value.problems)
    assert len(info.value.problems) == 2, text
    assert "'dice_los'" in text and "train.epochs" in text
    cfg = load_config(write(tmp_path, "b.config", "[model]\nnum_layer = 4\n[trian]\nx = 1\n[eval]\noutput_dir = './x'\n"))
    (warning,) = [w for w in cfg.warnings if "does not know" in w]
    assert "Ignored 3 key(s)" in warning
    assert "[model] num_layer = 4 (did you mean 'num_layers'?)" in warning
    assert "[trian] x = 1 (did you mean 'train'?)" in warning
    assert "[eval] output_dir = './x'" in warning
    assert cfg["model"]["num_layers"] == defaults()["model"]["num_layers"]


def test_unparseable_value_falls_back_to_default_with_warning(tmp_path):
    path = write(tmp_path, "a.config", "[train]\nepochs = 5\n[augmentor]\nangles = [90. 180, 270,]\n")
    cfg = load_config(path)
    assert cfg["augmentor"]["angles"] == defaults()["augmentor"]["angles"]
    (warning,) = [w for w in cfg.warnings if "cannot be parsed" in w]
    assert "[augmentor] angles = [90. 180, 270,]" in warning
    assert f"default augmentor.angles = {defaults()['augmentor']['angles']!r}" in warning
    assert "Likely fix: angles = [90, 180, 270]" in warning


def test_key_given_twice_is_refused_with_both_lines(tmp_path):
    path = write(tmp_path, "a.config", "[train]\nepochs = 5\n; c\nEpochs = 6\n[model]\n[train]\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    text = "\n".join(info.value.problems)
    assert "[train] epochs is given twice (lines 2 and 4)" in text
    assert "Section [train] is given twice (lines 1 and 6)" in text


def test_overrides_apply_and_are_validated(tmp_path):
    path = write(tmp_path, "a.config", "[train]\nepochs = 5\n")
    cfg = load_config(path, ["train.epochs=1", "model.name=TensorflowUNet", "model.base_kernels=(5,5)"])
    assert cfg["train"]["epochs"] == 1 and cfg["model"]["name"] == "unet"
    assert cfg["model"]["base_kernels"] == [5, 5]
    with pytest.raises(ConfigError) as info:
        load_config(path, ["train.epochz=1", "nodot=3"])
    text = "\n".join(info.value.problems)
    assert "--set train.epochz" in text and "epochs" in text
    assert "SECTION.KEY=VALUE" in text


def test_canonical_json_round_trip(tmp_path):
    path = write(tmp_path, "a.config", "[model]\nbase_filters = 8\n[train]\nepochs = 3\n")
    cfg = load_config(path)
    out = write(tmp_path, "resolved.json", cfg.to_json())
    again = load_config(out)
    assert again.to_dict() == cfg.to_dict()
    assert json.loads(out.read_text())["schema_version"] >= 1


def test_legacy_json_dialect_maps_and_coerces(tmp_path):
    data = {"cnn_name": "categorical_unet", "TRAINPATH": "train", "model_n_filters": 8, "model_pools": 3,
            "model_dilation_rate": 2, "model_train_decoder_only": 0, "model_metrics": "accuracy",
            "train_pretrained_weights": "None", "normalization": "PERCENTILE", "train_max_epochs": 7}
    cfg = load_config(write(tmp_path, "legacy.json", json.dumps(data)))
    assert cfg["model"]["name"] == "categorical_unet"
    assert cfg["model"]["dilation"] == [2, 2]
    assert cfg["model"]["num_layers"] == 4  # 3 poolings = 4 levels
    assert cfg["model"]["freeze_encoder"] is False
    assert cfg["model"]["metrics"] == ["pixel_accuracy"]
    assert cfg["train"]["pretrained_weights"] is None
    assert cfg["train"]["datapath"] == str((tmp_path / "train").resolve())
    assert cfg["image"]["normalization"] == "percentile"
    assert cfg["train"]["epochs"] == 7


def test_legacy_json_unknown_key_did_you_mean(tmp_path):
    path = write(tmp_path, "legacy.json", json.dumps({"cnn_name": "unet", "model_n_filter": 8}))
    cfg = load_config(path)
    assert any("'model_n_filter' (given 8) (did you mean 'model_n_filters'?)" in w for w in cfg.warnings)
    assert cfg["model"]["base_filters"] == defaults()["model"]["base_filters"]


def test_misspelling_accepted_with_warning(tmp_path):
    path = write(tmp_path, "a.config", "[deformation]\nalpah = 1300\n")
    try:
        cfg = load_config(path)
    except ConfigError as exc:  # the [deformation] section may not be in the schema yet
        pytest.fail(str(exc))
    assert cfg["deformation"]["alpha"] == 1300
    assert any("alpah" in w for w in cfg.warnings)


def test_missing_and_corrupt_files(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.config")
    with pytest.raises(ConfigError, match="cannot be read"):
        load_config(write(tmp_path, "bad.json", "{not json"))
    with pytest.raises(ConfigError, match="cannot be read"):
        load_config(write(tmp_path, "bad.config", "no section header\n"))


def test_config_from_dict_and_schema_shape():
    cfg = config_from_dict({"model": {"num_classes": 3}})
    assert cfg["model"]["num_classes"] == 3
    schema = canonical_schema()
    assert schema["properties"]["model"]["additionalProperties"] is False
    for section in schema["properties"].values():
        for key, spec in section.get("properties", {}).items():
            assert "default" in spec and spec.get("description"), key


def test_legacy_json_semantics(tmp_path):
    data = {"cnn_name": "my_categorical_unet_fc_dil_v2", "callbacks_patience": 7, "callbacks_save_freq": 100,
            "datagen_batch_size": 2, "normalization": "PERCENTILE"}
    cfg = load_config(write(tmp_path, "legacy.json", json.dumps(data)))
    assert cfg["model"]["name"] == "categorical_unet_fc_dil"  # first contained name wins over _fc
    assert cfg["train"]["reducer_patience"] == 7
    assert cfg["train"]["patience"] == defaults()["train"]["patience"]
    assert cfg["train"]["save_freq"] == 1
    assert any("every 50 batches" in w for w in cfg.warnings)
    assert (cfg["image"]["p_low"], cfg["image"]["p_high"]) == (0.1, 99.1)
    data = {"cnn_name": "something_else", "normalization": "HE"}
    cfg = load_config(write(tmp_path, "legacy2.json", json.dumps(data)))
    assert cfg["model"]["name"] == "unet" and cfg["image"]["normalization"] == "histogram_equalization"
    assert any("running model 'unet'" in w for w in cfg.warnings)
    cfg = load_config(write(tmp_path, "legacy3.json", json.dumps({"cnn_name": "unet_lstm"})))
    assert cfg["model"]["name"] == "unet_lstm" and not cfg.warnings


def test_legacy_schema_keys_are_folded_onto_the_keys_code_reads(tmp_path):
    path = write(tmp_path, "a.config", "[tiledinfer]\nsplit_size = 256\nimages_dir = './tiles_in'\n"
                 "[infer]\nimages_dir = './in'\n[segmentation]\ncolorize = True\n[model]\naux_loss_weight = 0.2\n")
    cfg = load_config(path)
    assert cfg["tiledinfer"]["tile_size"] == [256, 256] and cfg["tiledinfer"]["split_size"] is None
    assert cfg["infer"]["images_dir"] == str((tmp_path / "tiles_in").resolve())
    assert cfg["tiledinfer"]["images_dir"] is None
    assert cfg["segmentation"]["overlay_style"] == "colorize" and cfg["segmentation"]["colorize"] is False
    assert cfg["train"]["deep_supervision_weights"] == 0.2
    again = config_from_dict(cfg.to_dict())  # a run folder's config.json reloads unchanged
    assert again.to_dict() == cfg.to_dict()


def test_bare_names_in_lists_are_read_as_the_old_tool_evaluated_them(tmp_path):
    path = write(tmp_path, "a.config", "[model]\nloss = bce_iou_loss\nmetrics = [dice_coef, iou_coef]\n"
                 "[train]\nmetrics = [dice_coef, val_dice_coef]\n")
    cfg = load_config(path)
    assert cfg["model"]["loss"] == "bce_iou" and cfg["model"]["metrics"] == ["dice_coef", "iou"]
    assert cfg["train"]["monitor"] == "val_dice_coef"


def test_cooldown_with_a_schedule_that_decays_itself_is_refused_with_the_fix():
    cfg = config_from_dict({"train": {"cooldown_fraction": 0.25}})
    assert cfg["train"]["cooldown_fraction"] == 0.25 and cfg["train"]["lr_schedule"] == "plateau"
    with pytest.raises(ConfigError) as info:
        config_from_dict({"train": {"cooldown_fraction": 0.25, "lr_schedule": "cosine"}})
    (problem,) = info.value.problems
    assert "train.cooldown_fraction = 0.25" in problem and "'cosine'" in problem
    assert 'lr_schedule = "plateau"' in problem
    with pytest.raises(ConfigError) as info:
        config_from_dict({"train": {"cooldown_fraction": 1.0}})
    assert "train.cooldown_fraction" in info.value.problems[0]
