"""Texts of a new project folder (`dl-suite init`): a commented config, run scripts, a README.

Pure text: writing the folder is `dl_suite.io.scaffold`'s job. The config holds the keys users
change most (COMMON_KEYS), each with its schema description as a comment, so a new user edits
values instead of looking names up. Every other key keeps its default (docs/config_reference.md).
"""

import json
import textwrap
from pathlib import Path

from dl_suite.config import dialects
from dl_suite.config.convert import relative_path
from dl_suite.config import schema as schema_lib

DIALECTS = ("ini", "json")
CONFIG_NAMES = {"ini": "train_eval_infer.config", "json": "train_eval_infer.json"}
SCHEMA_FILE = "dl-suite.schema.json"
SCRIPTS = (("1.train", "train"), ("2.evaluate", "evaluate"), ("3.infer", "infer"))

# (section, key): the keys a new project sets or is most likely to change, in file order.
COMMON_KEYS = (
    ("model", "name"), ("model", "image_height"), ("model", "image_width"),
    ("model", "image_channels"), ("model", "num_classes"), ("model", "base_filters"),
    ("model", "num_layers"), ("model", "dropout_rate"), ("model", "learning_rate"),
    ("model", "loss"), ("model", "metrics"),
    ("train", "epochs"), ("train", "batch_size"), ("train", "steps_per_epoch"),
    ("train", "patience"), ("train", "seed"), ("train", "model_dir"),
    ("train", "image_datapath"), ("train", "mask_datapath"),
    ("train", "val_image_datapath"), ("train", "val_mask_datapath"),
    ("train", "validation_split"), ("train", "lr_schedule"), ("train", "jit_compile"),
    ("image", "normalization"),
    ("generator", "augmentation"), ("generator", "patch_size"), ("generator", "target_type"),
    ("augmentor", "vflip"), ("augmentor", "hflip"), ("augmentor", "rotation"),
    ("augmentor", "angles"), ("augmentor", "deformation"), ("augmentor", "brightening"),
    ("eval", "image_datapath"), ("eval", "mask_datapath"), ("eval", "scores"),
    ("eval", "optimise_threshold"), ("eval", "report_format"), ("eval", "num_overlays"),
    ("infer", "images_dir"), ("infer", "output_dir"), ("infer", "threshold"),
    ("tiledinfer", "tile_size"), ("tiledinfer", "tta"),
    ("segmentation", "min_size"), ("segmentation", "fill_holes"),
    ("segmentation", "instance_method"),
)


def model_names():
    """The model names a config accepts (registry names; legacy class names are aliases)."""
    return list(schema_lib.section_properties()["model"]["name"]["enum"])


def canonical_model(name):
    """`name` as a registry name (legacy class names mapped), or None when unknown."""
    name = dialects.MODEL_ALIASES.get(name, name)
    return name if name in model_names() else None


def project_values(project_dir, model, images, masks, test_images=None, test_masks=None,
                   model_values=None):
    """section -> {key: value} of COMMON_KEYS for a new project (schema defaults elsewhere).

    `model_values` ({key: value}) replaces defaults of the [model] section (e.g. the channels
    found in the images).

    Paths are written relative to `project_dir` (configs resolve them against their folder).
    Without test folders, evaluation is left unset (`2.evaluate --split val` scores the
    validation images) and inference segments the training images.
    """
    project_dir = Path(project_dir).resolve()
    rel = lambda p: relative_path(Path(p).resolve(), project_dir) if p else None  # noqa: E731
    defaults = schema_lib.defaults()
    values = {}
    for section, key in COMMON_KEYS:
        values.setdefault(section, {})[key] = defaults[section][key]
    values["model"].update(model_values or {})
    values["model"]["name"] = model
    values["train"].update(model_dir="./models", image_datapath=rel(images), mask_datapath=rel(masks))
    values["eval"].update(image_datapath=rel(test_images), mask_datapath=rel(test_masks),
                          report_format="html")
    values["infer"].update(images_dir=rel(test_images or images), output_dir="./infer_output")
    return values


def ini_literal(value):
    """A value as the INI dialect's Python-style literal."""
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(ini_literal(v) for v in value) + "]"
    return repr(value)


def _comment(prefix, text, width=96):
    return textwrap.wrap(text, width=width, initial_indent=prefix, subsequent_indent=prefix) or [prefix]


def ini_text(values, title):
    """Commented INI config: each key's schema description above it; unset paths commented out."""
    props = schema_lib.section_properties()
    lines = [f"; {title}", "; Paths are relative to this folder. Every key and its meaning:",
             "; docs/config_reference.md (or `dl-suite schema --reference FILE`)."]
    for section, items in values.items():
        lines += ["", f"[{section}]"]
        for key, value in items.items():
            spec = props[section][key]
            lines += _comment("; ", spec.get("description", ""))
            if "enum" in spec and len(spec["enum"]) <= 12:
                lines += _comment(";   allowed: ", ", ".join(map(str, spec["enum"])))
            disabled = "; " if value is None else ""  # an unset key keeps the default (None)
            lines.append(f"{disabled}{key} = {ini_literal(value)}")
    return "\n".join(lines) + "\n"


def json_text(values):
    """Canonical JSON config; `$schema` names the schema file beside it (editor completion)."""
    data = {"$schema": f"./{SCHEMA_FILE}", "schema_version": schema_lib.SCHEMA_VERSION, **values}
    return json.dumps(data, indent=2) + "\n"


def script_texts(config_name):
    """{file name: text} of the `1.train / 2.evaluate / 3.infer` scripts (.sh and .bat)."""
    files = {}
    for stem, command in SCRIPTS:
        files[f"{stem}.sh"] = (
            "#!/bin/sh\n"
            f"# {command} with the config in this folder; extra arguments (e.g. --set train.epochs=1) "
            "are passed on.\n"
            'cd "$(dirname "$0")" || exit 2\n'
            f'exec python3 -m dl_suite {command} ./{config_name} "$@"\n'
        )
        files[f"{stem}.bat"] = (
            "@echo off\r\n"
            f"rem {command} with the config in this folder; extra arguments are passed on.\r\n"
            'cd /d "%~dp0"\r\n'
            f"python -m dl_suite {command} ./{config_name} %*\r\n"
        )
    return files


def readme_text(name, values, config_name):
    """The project folder's README: what to run, and the keys of its config with their meaning."""
    props = schema_lib.section_properties()
    lines = [f"# {name}", "", f"A dl-suite project: model `{values['model']['name']}`, config "
             f"`{config_name}` (paths relative to this folder).", "", "```sh",
             "./1.train.sh                       # new run in models/run-NNN (1.train.bat on Windows)",
             "./1.train.sh --set train.epochs=1  # any key can be overridden",
             "./2.evaluate.sh                    # needs eval.image_datapath / mask_datapath",
             "./2.evaluate.sh --split val        # or score the validation images",
             "./3.infer.sh                       # masks, labels, overlays into infer_output/",
             "```", "", "Check the config without training: `dl-suite validate " + config_name + "`.",
             "", "## Keys in the config", "", "| key | value | meaning |", "|---|---|---|"]
    for section, items in values.items():
        for key, value in items.items():
            meaning = props[section][key].get("description", "").replace("|", "\\|")
            lines.append(f"| `{section}.{key}` | `{json.dumps(value)}` | {meaning} |")
    lines += ["", "Every other key keeps its default; all keys: `docs/config_reference.md` in "
              "dl-suite or `dl-suite schema --reference FILE`."]
    return "\n".join(lines) + "\n"


def project_files(project_dir, model, images, masks, *, dialect="ini", test_images=None,
                  test_masks=None, model_values=None):
    """{file name: text} of a new project folder and the names of its executable files.

    Raises:
        ValueError: unknown `dialect`.
    """
    if dialect not in DIALECTS:
        raise ValueError(f"Received `dialect={dialect!r}`, expected one of {', '.join(DIALECTS)}.")
    project_dir = Path(project_dir)
    values = project_values(project_dir, model, images, masks, test_images, test_masks, model_values)
    config_name = CONFIG_NAMES[dialect]
    title = f"{project_dir.parent.name}/{project_dir.name}: {model}, made by `dl-suite init`."
    files = {}
    if dialect == "ini":
        files[config_name] = ini_text(values, title)
    else:
        files[config_name] = json_text(values)
        files[SCHEMA_FILE] = json.dumps(schema_lib.editor_schema(), indent=1) + "\n"
    files.update(script_texts(config_name))
    files["README.md"] = readme_text(f"{project_dir.parent.name}/{project_dir.name}", values,
                                     config_name)
    executable = [name for name in files if name.endswith(".sh")]
    return files, executable
