"""The two config dialects of our predecessors, mapped onto canonical `section.key` names.

- INI (`*.config`, `*.ini`, `*.cfg`): sections as in the legacy TensorFlow segmentation API;
  values are Python-like literals, parsed safely.
- Legacy flat JSON (`cnn_name`, `TRAINPATH`, `model_*`, `datagen_*`, `newinfer_*`, ...).
- Canonical JSON: `{"model": {...}, "train": {...}}`, as written into every run folder.

Every value keeps a note of where it was written (`origins`), so errors quote the user's own key.
Old configs are upgraded here and nowhere else.
"""

import configparser
import difflib
import json
import logging

from dl_suite.config import schema as schema_lib
from dl_suite.config.ini_text import duplicate_problems
from dl_suite.config.literals import LiteralError, parse_literal
from dl_suite.config.no_effect import reason as no_effect_reason

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
    "TensorflowXceptionLikeUNet": "xception_unet",
    "TensorflowBASNet": "basnet",
}
# The legacy JSON suite chose its model by the first of these names that `cnn_name` contains.
CNN_NAME_ORDER = (
    "mobilenet_mobileunet_lstm", "mobilenet_mobileunet", "categorical_unet_transpose",
    "categorical_unet_fc_dil", "categorical_unet_fc", "categorical_unet",
)
LOSS_ALIASES = {
    "bce_dice_loss": "bce_dice",
    "binary_crossentropy": "bce",
    "bce_loss": "bce",
    "bce_iou_loss": "bce_iou",
    "basnet_hybrid_loss": "basnet_hybrid",
    "ssim_loss": "ssim",
    "dice_loss": "dice",
    "jaccard": "iou",
    "jaccard_loss": "iou",
    "jacard_loss": "iou",
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
    "acc": "pixel_accuracy",
    "sparse_categorical_accuracy": "pixel_accuracy",
    "jaccard": "iou",
    "iou_coef": "iou",
    "jacard_similarity": "iou",
    "jaccard_similarity": "iou",
    "jacard_coef": "iou",
    "dice": "dice_coef",
    "sensitivity": "recall",
}
# The legacy JSON suite's normalisation names that differ from ours.
NORMALIZATION_ALIASES = {"HE": "histogram_equalization"}
# Keras layer class names that the INI tool accepted as activations.
ACTIVATION_ALIASES = {"leakyrelu": "leaky_relu", "prelu": "relu", "silu": "swish"}
# INI (section, key) -> (section, key) for keys the old tool read under another name or section.
# A moved key never replaces a value written under the canonical name.
KEY_RENAMES = {
    ("model", "model"): ("model", "name"),
    ("deformation", "sigmoid"): ("deformation", "sigmoids"),
    ("tiledinfer", "threshold"): ("infer", "threshold"),
}
MISSPELLINGS = {("deformation", "alpah"): "alpha", ("model", "diation"): "dilation"}
# INI values whose meaning differs from the canonical key's, keyed by the canonical key.
INI_VALUES = {
    # one sigmoid of the old `sigmoid` key -> the list of `sigmoids`
    ("deformation", "sigmoids"): lambda v: v if isinstance(v, list) else [v],
    # the old tool thresholded 0-255 grey values; infer.threshold is a probability
    ("infer", "threshold"): lambda v: round(v / 255, 4) if _is_number(v) and v > 1 else v,
}

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
    "callbacks_patience": ("train", "reducer_patience"),
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
    # Tracking (issue 11): `tracking_<key>` -> [tracking] <key>.
    **{f"tracking_{key}": ("tracking", key) for key in (
        "method", "max_distance", "distance_unit", "max_gap", "divisions", "min_track_length",
        "min_overlap", "labels", "image", "output_dir", "ground_truth")},
}
# Legacy JSON values whose meaning differs from the canonical key's.
LEGACY_JSON_VALUES = {
    # `model_pools` counts poolings; `num_layers` counts levels including the bottleneck.
    "model_pools": lambda v: v + 1 if isinstance(v, int) and not isinstance(v, bool) else v,
}
_WORDS = {"None": None, "none": None, "True": True, "true": True, "False": False, "false": False}
# Dialects written by the tools we replace: unknown keys are ignored with one warning there.
LEGACY_DIALECTS = ("ini", "legacy-json")


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class RawConfig:
    """Values as read, before validation: `values[section][key]`, `origins[(section, key)]`.

    `unknown` collects keys of a legacy dialect that no tool reads (one warning later);
    `unparsed` collects INI values that could not be parsed: (section, key, text, reason,
    suggestion, origin).
    """

    def __init__(self, dialect):
        self.dialect = dialect
        self.values = {}
        self.origins = {}
        self.problems = []
        self.warnings = []
        self.unknown = []
        self.unparsed = []
        self.no_effect = []

    def put(self, section, key, value, origin):
        """Stores one value under its canonical name (renames and misspellings applied)."""
        moved = canonical_key(section, key) != (section, key) and (section, key) != ("model", "model")
        section, key = canonical_key(section, key)
        fixed = MISSPELLINGS.get((section, key))
        if fixed:
            self.warnings.append(
                f"{origin}: '{key}' is a known misspelling of '{fixed}'; read as {section}.{fixed}. "
                f"Please correct it in your config."
            )
            key = fixed
        if moved and (section, key) in self.origins:
            return  # a key moved from another section never replaces one written here
        self.values.setdefault(section, {})[key] = value
        self.origins[(section, key)] = origin


def canonical_key(section, key):
    """(section, key) after the INI renames (misspellings are handled by `RawConfig.put`)."""
    return KEY_RENAMES.get((section, key), (section, key))


def read_ini(text, source="config"):
    """Parses INI text into a RawConfig (problems collected, never raised).

    Values that are not Python-style literals were replaced by their default in the old tool
    (it `eval`ed them); they are collected in `raw.unparsed` and become warnings.
    """
    raw = RawConfig("ini")
    duplicates = duplicate_problems(text)
    if duplicates:
        raw.problems.extend(duplicates)
        return raw
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
            key = key.strip().lower()
            origin = f"[{name}] {key}"
            try:
                value = parse_literal(text_value)
            except LiteralError as exc:
                raw.unparsed.append((name, key, exc.text, exc.reason, exc.suggestion, origin))
                continue
            target = canonical_key(name, MISSPELLINGS.get((name, key), key))
            value = INI_VALUES.get(target, lambda v: v)(value)
            raw.put(name, key, value, origin)
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
    data = {k: v for k, v in data.items() if k != "$schema"}  # the editors' schema file
    # The flat dialect has no object values: one section object makes the file canonical.
    canonical = "schema_version" in data or any(isinstance(v, dict) for v in data.values())
    return _read_canonical(data) if canonical else _read_legacy_json(data)


def _section_of(key):
    """The sections whose schema has `key`, for a stray top-level key of a canonical file."""
    return [name for name, props in schema_lib.section_properties().items() if key in props]


def _read_canonical(data):
    raw = RawConfig("json")
    for section, items in data.items():
        if section == "schema_version":
            continue
        if not isinstance(items, dict):
            sections = _section_of(section)
            hint = (f' Did you mean "{sections[0]}": {{"{section}": {json.dumps(items)}}}?'
                    if sections else "")
            raw.problems.append(
                f"'{section}' (given {items!r}) is at the top level of a JSON config whose other "
                f"entries are sections: put every key inside its section.{hint}"
            )
            continue
        for key, value in items.items():
            raw.put(section, key, value, f"{section}.{key}")
    return raw


def match_cnn_name(name):
    """The model the legacy JSON suite ran for `cnn_name` (containment match, else "unet")."""
    if name in schema_lib.section_properties()["model"]["name"].get("enum", ()):
        return name
    return next((known for known in CNN_NAME_ORDER if known in name), "unet")


def _read_legacy_json(data):
    raw = RawConfig("legacy-json")
    for key, value in data.items():
        target = LEGACY_JSON_KEYS.get(key)
        if target is None:
            raw.unknown.append(f"'{key}' (given {value!r}){_did_you_mean(key, LEGACY_JSON_KEYS, 0.6)}")
            continue
        if isinstance(value, str) and value in _WORDS:
            value = _WORDS[value]
        value = LEGACY_JSON_VALUES.get(key, lambda v: v)(value)
        if key == "cnn_name" and isinstance(value, str):
            chosen = match_cnn_name(value)
            if chosen != value:
                raw.warnings.append(
                    f"cnn_name '{value}': running model '{chosen}' (the legacy suite chose the first "
                    f"of {', '.join(CNN_NAME_ORDER)} that the name contains, else 'unet')."
                )
            value = chosen
        raw.put(*target, value, key)
    weights = raw.values.get("model", {}).get("class_weights")
    if isinstance(weights, list) and len(weights) > 1:
        # One weight per class: the legacy suite took the number of classes from this list.
        raw.put("model", "num_classes", len(weights), "model_category_weights")
    if _is_number(data.get("callbacks_save_freq")):
        # Keras 2.0's ModelCheckpoint counted samples; dl-suite checkpoints once per epoch at most.
        samples = data["callbacks_save_freq"]
        batch = data.get("datagen_batch_size", 1) * data.get("datagen_patch_batch", 1)
        raw.put("train", "save_freq", 1, "callbacks_save_freq")
        raw.warnings.append(
            f"callbacks_save_freq = {samples} counted samples (a checkpoint every {max(1, samples // batch)} "
            "batches); dl-suite saves checkpoints per epoch, so it saves one after every epoch."
        )
    norm = raw.values.get("image", {}).get("normalization")
    if isinstance(norm, str) and norm.lower() == "percentile":
        # The legacy suite's PERCENTILE normalisation used the 0.1 / 99.1 percentile range.
        raw.put("image", "p_low", 0.1, "normalization")
        raw.put("image", "p_high", 99.1, "normalization")
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


def _did_you_mean(word, options, cutoff=0.5):
    close = difflib.get_close_matches(str(word), [str(o) for o in options], n=1, cutoff=cutoff)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _canonical_metrics(raw):
    """Metric names mapped; `val_` names removed, the first one choosing train.monitor."""
    model = raw.values.get("model", {})
    train = raw.values.get("train", {})
    monitor = None
    for section, key in ((model, "metrics"), (train, "metrics")):
        names = section.get(key)
        if isinstance(names, str):
            names = [names]
        if not isinstance(names, list):
            continue
        kept = []
        for name in names:
            if not isinstance(name, str):
                kept.append(name)
                continue
            if name.startswith("val_"):
                monitor = monitor or METRIC_ALIASES.get(name[4:], name[4:])
                continue
            kept.append(METRIC_ALIASES.get(name, name))
        section[key] = list(dict.fromkeys(kept))
    if monitor and "monitor" not in train:
        metrics = model.get("metrics")
        if isinstance(metrics, list) and monitor not in metrics:
            metrics.append(monitor)
        origin = raw.origins.get(("train", "metrics")) or raw.origins.get(("model", "metrics"))
        raw.values.setdefault("train", {})["monitor"] = f"val_{monitor}"
        raw.origins[("train", "monitor")] = origin
        if "monitor_mode" not in train:
            raw.values["train"]["monitor_mode"] = "max"  # every metric: higher is better
            raw.origins[("train", "monitor_mode")] = origin


def canonicalise_names(raw):
    """Maps legacy model, loss, metric and activation names onto registry names (in place)."""
    model = raw.values.get("model", {})
    if isinstance(model.get("name"), str):
        model["name"] = MODEL_ALIASES.get(model["name"], model["name"])
    if isinstance(model.get("loss"), str):
        model["loss"] = LOSS_ALIASES.get(model["loss"], model["loss"])
    _canonical_metrics(raw)
    for key in ("activation", "final_activation", "last_activation"):
        value = model.get(key)
        if isinstance(value, str) and raw.dialect in LEGACY_DIALECTS:
            model[key] = ACTIVATION_ALIASES.get(value.lower(), value.lower())
    for section, key in (("image", "normalization"), ("model", "optimizer")):
        value = raw.values.get(section, {}).get(key)
        if isinstance(value, str):
            raw.values[section][key] = NORMALIZATION_ALIASES.get(value, value.lower())
        elif value is False and (section, key) == ("image", "normalization"):
            raw.values[section][key] = "none"


def settle_keys(raw):
    """Drops keys that change nothing, with warnings naming them (in place).

    Legacy dialects: keys in `no_effect.NO_EFFECT` and keys no tool reads are removed (the old
    tools ignored unknown keys), unparseable INI values fall back to the default. Every dialect:
    schema keys in `NO_EFFECT` set to a non-default value are named. Unknown keys of the canonical
    dialect are left for validation to refuse.
    """
    known = schema_lib.section_properties()
    defaults = schema_lib.defaults()
    legacy = raw.dialect in LEGACY_DIALECTS
    no_effect, unknown = [], list(raw.unknown)
    for section in list(raw.values):
        for key in list(raw.values[section]):
            value = raw.values[section][key]
            origin = raw.origins.get((section, key), f"{section}.{key}")
            why = no_effect_reason(section, key)
            if section in known and key in known[section]:
                if legacy and value is None and not _accepts_null(known[section][key]):
                    del raw.values[section][key]  # the old tools' None meant "the default"
                    continue
                if why and value != defaults[section][key]:
                    no_effect.append(f"{origin} = {value!r} ({why})")
                    raw.no_effect.append((section, key, value, why))
                continue
            if not legacy or origin.startswith("--set"):
                continue  # validation refuses it: canonical files and --set are strict
            del raw.values[section][key]
            if why:
                no_effect.append(f"{origin} = {value!r} ({why})")
                raw.no_effect.append((section, key, value, why))
            else:
                options = known.get(section, known)
                unknown.append(f"{origin} = {value!r}{_did_you_mean(key if section in known else section, options)}")
        if not raw.values[section]:
            del raw.values[section]
    for section, key, text, reason, suggestion, origin in raw.unparsed:
        target = canonical_key(section, MISSPELLINGS.get((section, key), key))
        fix = f"{key} = {suggestion}" if suggestion else 'a Python-style literal such as 16, 0.5, True, "text", (3, 3) or [1, 2]'
        if target[0] in known and target[1] in known[target[0]]:
            used = f"the default {target[0]}.{target[1]} = {defaults[target[0]][target[1]]!r} is used"
        else:
            used = "the key has no effect in dl-suite anyway"
        raw.warnings.append(
            f"{origin} = {text}: this value cannot be parsed ({reason}); like the old tool, "
            f"dl-suite ignores it and {used}. Likely fix: {fix}."
        )
    if no_effect:
        raw.warnings.append("Accepted for compatibility, has no effect: " + "; ".join(no_effect) + ".")
    if unknown:
        raw.warnings.append(
            f"Ignored {len(unknown)} key(s) that dl-suite does not know (the old tools ignored them "
            "too; check for typos): " + "; ".join(unknown) + "."
        )


def _accepts_null(spec):
    types = spec.get("type", [])
    return "null" in (types if isinstance(types, list) else [types]) or None in spec.get("enum", ())


def fold_legacy_keys(values):
    """Moves the values of legacy schema keys onto the keys that code reads (in place).

    The legacy key is then cleared, so code reads one key only. Keys absent from the schema
    are left alone.

    Args:
        values: section -> key -> value, every schema key present (defaults filled).
    """
    tiled, infer = values.get("tiledinfer", {}), values.get("infer", {})
    if tiled.get("split_size"):
        if not tiled.get("tile_size"):
            side = tiled["split_size"]
            tiled["tile_size"] = [side, side] if _is_number(side) else side
        tiled["split_size"] = None
    # The old tool's second images-folder section: its folders win, as inference is always tiled.
    for key in ("images_dir", "output_dir"):
        if tiled.get(key) and key in infer:
            infer[key] = tiled[key]
            tiled[key] = None
    seg = values.get("segmentation", {})
    if seg.get("colorize"):
        seg["overlay_style"] = "colorize"
        seg["colorize"] = False
    train, model = values.get("train", {}), values.get("model", {})
    if "deep_supervision_weights" in train and train["deep_supervision_weights"] is None:
        if model.get("aux_loss_weight") is not None:
            train["deep_supervision_weights"] = model["aux_loss_weight"]
