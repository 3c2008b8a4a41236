"""The two config dialects of our predecessors, mapped onto canonical `section.key` names.

- INI (`*.config`, `*.ini`, `*.cfg`): sections as in the legacy TensorFlow segmentation API;
  values are Python-like literals, parsed safely.
- Legacy flat JSON (`cnn_name`, `TRAINPATH`, `model_*`, `datagen_*`, `newinfer_*`, ...).
- Canonical JSON: `{"model": {...}, "train": {...}}`, as written into every run folder.

Every value keeps a note of where it was written (`origins`), so errors quote the user's own key.
Old configs are upgraded here and nowhere else.
"""

import configparser
import json
import logging

from dl_suite.config.literals import LiteralError, parse_literal

logger = logging.getLogger(__name__)

MODEL_ALIASES = {
    "TensorflowUNet": "unet",
    "TensorflowSlightlyFlexibleUNet": "unet",
    "TensorflowAttentionUNet": "attention_unet",
    "TensorflowSwinUNet": "swin_unet",
    "TensorflowDeepLabV3Plus": "deeplabv3plus",
    "TensorflowMultiResUNet": "multires_unet",
    "TensorflowUNet3Plus": "unet3plus",
    "TensorflowTransUNet": "transunet",
    "TensorflowU2Net": "u2net",
    "TensorflowSharpUNet": "sharp_unet",
    "TensorflowEfficientUNet": "efficient_unet",
    "TensorflowEfficientNetB7UNet": "efficientnetb7_unet",
}
LOSS_ALIASES = {
    "bce_dice_loss": "bce_dice",
    "binary_crossentropy": "bce",
    "bce_loss": "bce",
    "dice_loss": "dice",
    "jaccard": "iou",
    "jaccard_loss": "iou",
    "iou_loss": "iou",
    "sparse_categorical_crossentropy": "sparse_cce",
    "categorical_crossentropy": "categorical_cce",
    "weighted_bce_loss": "weighted_bce",
    "weighted_bce_dice_loss": "weighted_bce_dice",
    "focal_loss": "focal",
    "tversky_loss": "tversky",
    "focal_tversky_loss": "focal_tversky",
}
METRIC_ALIASES = {
    "binary_accuracy": "pixel_accuracy",
    "accuracy": "pixel_accuracy",
    "sparse_categorical_accuracy": "pixel_accuracy",
    "jaccard": "iou",
    "iou_coef": "iou",
    "dice": "dice_coef",
}
# (section, legacy key) -> canonical key, for renamed keys and misspellings seen in published configs.
KEY_RENAMES = {("model", "model"): "name"}
MISSPELLINGS = {("deformation", "alpah"): "alpha"}

# Flat legacy JSON key -> (section, key).
LEGACY_JSON_KEYS = {
    "cnn_name": ("model", "name"),
    "OUTPUTPATH": ("train", "model_dir"),
    "TRAINPATH": ("train", "datapath"),
    "VALPATH": ("train", "val_datapath"),
    "TESTPATH": ("eval", "datapath"),
    "model_n_filters": ("model", "base_filters"),
    "model_pools": ("model", "num_layers"),
    "model_kernel_size": ("model", "base_kernels"),
    "model_dilation_rate": ("model", "dilation"),
    "model_mobile_alpha": ("model", "mobile_alpha"),
    "model_time_windows": ("model", "time_windows"),
    "model_lr": ("model", "learning_rate"),
    "model_dropout": ("model", "dropout_rate"),
    "model_activation": ("model", "activation"),
    "model_last_activation": ("model", "last_activation"),
    "model_padding": ("model", "padding"),
    "model_kernel_initializer": ("model", "kernel_initializer"),
    "model_lossfunction": ("model", "loss"),
    "model_loss_tips": ("model", "loss_tips"),
    "model_metrics": ("model", "metrics"),
    "model_train_decoder_only": ("model", "freeze_encoder"),
    "model_category_weights": ("model", "class_weights"),
    "model_seed_initializer": ("model", "seed"),
    "train_seed_initializer": ("train", "seed"),
    "train_max_epochs": ("train", "epochs"),
    "train_pretrained_weights": ("train", "pretrained_weights"),
    "train_load_from_frozen": ("train", "load_from_frozen"),
    "callbacks_save_best_only": ("train", "save_best_only"),
    "callbacks_save_freq": ("train", "save_freq"),
    "callbacks_patience": ("train", "patience"),
    "callbacks_tb_update_freq": ("train", "tensorboard_update_freq"),
    "datagen_type": ("generator", "target_type"),
    "datagen_tips_factor": ("generator", "tips_factor"),
    "datagen_sigma": ("generator", "sigma"),
    "datagen_patch_batch": ("generator", "patch_batch"),
    "datagen_batch_size": ("train", "batch_size"),
    "datagen_dim_size": ("generator", "patch_size"),
    "datagen_sampling_pdf": ("generator", "sampling_pdf"),
    "normalization": ("image", "normalization"),
    "newinfer_uneven_illumination": ("infer", "uneven_illumination"),
    "newinfer_epoch_process_test": ("infer", "weights"),
    "newinfer_padding": ("tiledinfer", "halo"),
    "newinfer_data": ("infer", "images_dir"),
    "newinfer_output_folder_name": ("infer", "output_dir"),
    "PATH2VIDEOS": ("infer", "videos_csv"),
}
# Legacy JSON values whose meaning differs from the canonical key's.
LEGACY_JSON_VALUES = {
    # `model_pools` counts poolings; `num_layers` counts levels including the bottleneck.
    "model_pools": lambda v: v + 1 if isinstance(v, int) and not isinstance(v, bool) else v,
}
_WORDS = {"None": None, "none": None, "True": True, "true": True, "False": False, "false": False}


class RawConfig:
    """Values as read, before validation: `values[section][key]`, `origins[(section, key)]`."""

    def __init__(self, dialect):
        self.dialect = dialect
        self.values = {}
        self.origins = {}
        self.problems = []
        self.warnings = []

    def put(self, section, key, value, origin):
        renamed = KEY_RENAMES.get((section, key))
        if renamed:
            key = renamed
        fixed = MISSPELLINGS.get((section, key))
        if fixed:
            self.warnings.append(
                f"{origin}: '{key}' is a known misspelling of '{fixed}'; read as {section}.{fixed}. "
                f"Please correct it in your config."
            )
            key = fixed
        self.values.setdefault(section, {})[key] = value
        self.origins[(section, key)] = origin


def read_ini(text, source="config"):
    """Parses INI text into a RawConfig (problems collected, never raised)."""
    raw = RawConfig("ini")
    parser = configparser.ConfigParser(
        interpolation=None, inline_comment_prefixes=(";", "#"), strict=True
    )
    parser.optionxform = str
    try:
        parser.read_string(text, source=str(source))
    except configparser.Error as exc:
        raw.problems.append(f"The INI file cannot be read: {exc.message if hasattr(exc, 'message') else exc}")
        return raw
    for section in parser.sections():
        name = section.strip().lower()
        for key, text_value in parser.items(section):
            origin = f"[{name}] {key}"
            try:
                value = parse_literal(text_value)
            except LiteralError as exc:
                hint = f" Did you mean {exc.suggestion}?" if exc.suggestion else ""
                raw.problems.append(
                    f"{origin} = {exc.text}: this value cannot be parsed ({exc.reason}). "
                    f"Write a Python-style literal such as 16, 0.5, True, \"text\", (3, 3) or [1, 2].{hint}"
                )
                continue
            raw.put(name, key.strip().lower(), value, origin)
    return raw


def read_json(text, source="config"):
    """Parses JSON text (canonical or legacy flat dialect) into a RawConfig."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raw = RawConfig("json")
        raw.problems.append(f"The JSON file cannot be read: {exc.msg} at line {exc.lineno}, column {exc.colno}.")
        return raw
    if not isinstance(data, dict):
        raw = RawConfig("json")
        raw.problems.append("The JSON file must hold an object ({...}) at the top level.")
        return raw
    nested = all(isinstance(v, dict) for k, v in data.items() if k != "schema_version")
    return _read_canonical(data) if nested and data else _read_legacy_json(data)


def _read_canonical(data):
    raw = RawConfig("json")
    for section, items in data.items():
        if section == "schema_version":
            continue
        for key, value in items.items():
            raw.put(section, key, value, f"{section}.{key}")
    return raw


def _read_legacy_json(data):
    import difflib

    raw = RawConfig("legacy-json")
    for key, value in data.items():
        target = LEGACY_JSON_KEYS.get(key)
        if target is None:
            close = difflib.get_close_matches(key, LEGACY_JSON_KEYS, n=1, cutoff=0.6)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raw.problems.append(f"Unknown key '{key}' (given {value!r}).{hint}")
            continue
        if isinstance(value, str) and value in _WORDS:
            value = _WORDS[value]
        value = LEGACY_JSON_VALUES.get(key, lambda v: v)(value)
        raw.put(*target, value, key)
    weights = raw.values.get("model", {}).get("class_weights")
    if isinstance(weights, list) and len(weights) > 1:
        # One weight per class: the legacy suite took the number of classes from this list.
        raw.put("model", "num_classes", len(weights), "model_category_weights")
    _binarise_instance_ids(raw)
    return raw


def _binarise_instance_ids(raw):
    """`datagen_type: segmentation` with two categories read the label files (`instance_ids_NNN`)
    as foreground = label > 0; recorded as mask.binarize = True (unless the config sets it)."""
    target = raw.values.get("generator", {}).get("target_type")
    classes = raw.values.get("model", {}).get("num_classes")
    if target == "segmentation" and classes == 2 and "binarize" not in raw.values.get("mask", {}):
        raw.put("mask", "binarize", True, "datagen_type")
        logger.info("datagen_type 'segmentation' with 2 categories: label images are binarised "
                    "(label > 0 = class 1), as the legacy tool did (mask.binarize = True).")


def canonicalise_names(raw):
    """Maps legacy model, loss and metric names onto registry names (in place)."""
    model = raw.values.get("model", {})
    if isinstance(model.get("name"), str):
        model["name"] = MODEL_ALIASES.get(model["name"], model["name"])
    if isinstance(model.get("loss"), str):
        model["loss"] = LOSS_ALIASES.get(model["loss"], model["loss"])
    metrics = model.get("metrics")
    if isinstance(metrics, str):
        metrics = [metrics]
    if isinstance(metrics, list):
        model["metrics"] = [METRIC_ALIASES.get(m, m) if isinstance(m, str) else m for m in metrics]
    for section, key in (("image", "normalization"), ("model", "optimizer")):
        value = raw.values.get(section, {}).get(key)
        if isinstance(value, str):
            raw.values[section][key] = value.lower()
        elif value is False and (section, key) == ("image", "normalization"):
            raw.values[section][key] = "none"
