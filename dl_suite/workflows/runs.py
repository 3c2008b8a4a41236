"""A training run is a folder: config.json, model.keras, history.csv, curves, previews, run.json.

Runs live under `train.model_dir` as `run-001`, `run-002`, ...; a new run never touches an
earlier one. `run.json` records the status ("running", "complete", "interrupted", "failed") and
the model's input shape. This module is the one place that names the files of a run folder
(the callbacks import the names from here).
"""

import json
import time
from pathlib import Path

from dl_suite.errors import DataError, UserError
from dl_suite.io import read_json, write_text

RUN_PREFIX = "run-"
STATUS_FILE = "run.json"
CONFIG_FILE = "config.json"
PROVENANCE_FILE = "provenance.json"  # workflows.provenance: versions, seeds, hardware, input hashes
BEST_MODEL = "model.keras"
LAST_MODEL = "model_last.keras"
BEST_WEIGHTS = "model.weights.h5"  # train.save_weights_only = true
LAST_WEIGHTS = "model_last.weights.h5"
MODEL_FILES = (BEST_MODEL, LAST_MODEL, BEST_WEIGHTS, LAST_WEIGHTS)  # preference order
HISTORY_FILE = "history.csv"
CURVES_FILE = "curves.png"
RESUME_DIR = "resume"
STATE_FILE = "state.json"
CHECKPOINT_DIR = "checkpoints"


def checkpoint_names(weights_only=False):
    """(best, last) checkpoint file names for full models or weights only."""
    return (BEST_WEIGHTS, LAST_WEIGHTS) if weights_only else (BEST_MODEL, LAST_MODEL)


def list_runs(model_dir):
    """Run folders under `model_dir`, oldest first."""
    root = Path(model_dir)
    if not root.is_dir():
        return []
    runs = [p for p in root.iterdir() if p.is_dir() and p.name.startswith(RUN_PREFIX) and p.name[len(RUN_PREFIX):].isdigit()]
    return sorted(runs, key=lambda p: int(p.name[len(RUN_PREFIX):]))


def create_run(model_dir):
    """Creates the next free `run-NNN` folder (atomic mkdir, so two trainings never share one)."""
    root = Path(model_dir)
    root.mkdir(parents=True, exist_ok=True)
    runs = list_runs(root)
    number = int(runs[-1].name[len(RUN_PREFIX):]) + 1 if runs else 1
    while True:
        candidate = root / f"{RUN_PREFIX}{number:03d}"
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            number += 1


def read_status(run_dir):
    """The run's status dict ({} if none was written)."""
    try:
        return read_json(Path(run_dir) / STATUS_FILE, default={})
    except DataError:
        return {}  # a damaged status file only loses the status, never the run


def write_status(run_dir, status, **info):
    """Atomically records the run's status and extra info (merged with what is there)."""
    data = read_status(run_dir)
    data.update(info)
    data["status"] = status
    data["updated"] = time.strftime("%Y-%m-%d %H:%M:%S")
    write_text(Path(run_dir) / STATUS_FILE, json.dumps(data, indent=2))
    return data


def latest_run(model_dir, *, with_model=True):
    """The newest run under `model_dir` that has a saved model.

    Raises:
        UserError: there is none (train first, or name the run).
    """
    for run in reversed(list_runs(model_dir)):
        if not with_model or any((run / name).is_file() for name in MODEL_FILES):
            return run
    raise UserError(
        f"No trained model found under '{model_dir}'. Run training first (1.train / dl-suite train), "
        f"or pass --run RUN_DIR."
    )


def anneals_to_the_end(run_dir):
    """Whether the run's learning rate falls to its lowest at the last epoch: train.lr_schedule
    'cosine' in its config.json, or a cooldown (train.cooldown_fraction) that began, as its
    resumable state records (a run that early stopping ended before the cooldown keeps its
    best checkpoint). Its last checkpoint, not the one of the lowest validation loss, is then
    the run's model (`eval.model_choice` 'auto', `model_file`)."""
    from dl_suite.optimizers import schedule_name_from_config
    from dl_suite.registry import UnknownNameError

    data = read_json(Path(run_dir) / CONFIG_FILE)
    train = data.get("train") if isinstance(data, dict) else None
    if not isinstance(train, dict):
        return False
    try:
        schedule = schedule_name_from_config(train)
    except UnknownNameError:  # the config loader reports unknown names
        return False
    if schedule == "cosine":
        return True
    if not train.get("cooldown_fraction"):
        return False
    state = read_json(Path(run_dir) / RESUME_DIR / STATE_FILE)
    callbacks = state.get("callbacks") if isinstance(state, dict) else None
    cooldown = callbacks.get("cooldown") if isinstance(callbacks, dict) else None
    return isinstance(cooldown, dict) and cooldown.get("start_rate") is not None


def checkpoint_candidates(run_dir, choice):
    """The run's checkpoint files that `eval.model_choice` lets the tuning compare: both the
    best and the last ("validation"), or the one named ("best", "last"; the other when only
    one exists); "auto" is "last" for a run whose schedule anneals to the end
    (`anneals_to_the_end`), else "best". Full models before weights files; empty when the run
    has none."""
    run_dir = Path(run_dir)
    if choice == "auto":
        choice = "last" if anneals_to_the_end(run_dir) else "best"
    present = []
    for weights_only in (False, True):
        present = [n for n in checkpoint_names(weights_only) if (run_dir / n).is_file()]
        if present:
            break
    if choice == "validation" or len(present) < 2:
        return present
    return [present[0] if choice == "best" else present[1]]


def chosen_model(run_dir):
    """The checkpoint evaluate chose on the validation images (threshold.json `model`), or
    None when the run has no such choice or the file named is not in the folder."""
    from dl_suite.evaluation.threshold import read_threshold_file  # its one reader

    stored = read_threshold_file(run_dir)
    name = stored.get("model") if isinstance(stored, dict) else None
    return name if name in MODEL_FILES and (Path(run_dir) / name).is_file() else None


def model_file(run_dir):
    """The run's model: the checkpoint chosen on the validation images when evaluate made a
    choice (`chosen_model`), else the best model, else its last checkpoint; weights files
    (save_weights_only) come after full models (load them with `workflows.predict.load_model`).
    Evaluate, infer, export and the robustness assay all take the model from here."""
    run_dir = Path(run_dir)
    chosen = chosen_model(run_dir)
    if chosen is not None:
        return run_dir / chosen
    order = MODEL_FILES
    if anneals_to_the_end(run_dir):
        order = (LAST_MODEL, BEST_MODEL, LAST_WEIGHTS, BEST_WEIGHTS)
    for name in order:
        if (run_dir / name).is_file():
            return run_dir / name
    raise UserError(
        f"The run folder '{run_dir}' holds no model ({', '.join(MODEL_FILES)}). Train first, "
        "or pass another --run."
    )


def run_input_shape(run_dir, cfg):
    """(h, w, channels) the run's model was trained with: from run.json, else the config."""
    shape = read_status(run_dir).get("input_shape")
    if shape:
        return tuple(int(s) for s in shape)
    gen, model = cfg["generator"], cfg["model"]
    h, w = gen["patch_size"] or (model["image_height"], model["image_width"])
    return int(h), int(w), int(model["image_channels"])


def model_from_weights(run_dir, cfg, weights_path):
    """Rebuilds the run's model from its config (models registry) and loads a weights file.

    Raises:
        DataError: the weights do not fit the architecture the config describes.
    """
    from dl_suite.io import load_model_weights
    from dl_suite.models import build_model

    section = dict(cfg["model"])
    name, num_classes = section.pop("name"), section.pop("num_classes")
    section.pop("freeze_encoder", None)
    model = build_model(name, run_input_shape(run_dir, cfg), num_classes, **section)
    try:
        load_model_weights(model, weights_path)
    except (ValueError, OSError, KeyError) as exc:
        raise DataError(
            f"The weights '{weights_path}' do not fit the model that '{run_dir}/{CONFIG_FILE}' "
            f"describes ({name}): {exc}. Use the config.json the weights were trained with."
        ) from exc
    return model


def resolve_run(cfg, run=None):
    """The run to evaluate or infer with: `run` if given, else the latest under train.model_dir."""
    if run:
        run = Path(run)
        if not run.is_dir():
            raise UserError(f"Run folder not found: '{run}'.")
        return run
    return latest_run(cfg["train"]["model_dir"])


def latest_resumable(model_dir):
    """The newest unfinished run with a resumable state (for `train --resume` without a
    folder); runs that failed before their first epoch have none and are skipped.

    Raises:
        UserError: no unfinished run exists.
    """
    for run in reversed(list_runs(model_dir)):
        resumable = (run / RESUME_DIR / STATE_FILE).is_file()
        if resumable and read_status(run).get("status") != "complete":
            return run
    raise UserError(f"No unfinished run under '{model_dir}' to resume. Start a new run without --resume.")
