"""A training run is a folder: config.json, model.keras, history.csv, curves, previews, run.json.

Runs live under `train.model_dir` as `run-001`, `run-002`, ...; a new run never touches an
earlier one. `run.json` records the status ("running", "complete", "stopped", "failed").
"""

import json
import time
from pathlib import Path

from dl_suite.errors import UserError
from dl_suite.errors import DataError
from dl_suite.io import read_json, write_text

RUN_PREFIX = "run-"
STATUS_FILE = "run.json"
CONFIG_FILE = "config.json"
BEST_MODEL = "model.keras"
LAST_MODEL = "model_last.keras"


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
        if not with_model or (run / BEST_MODEL).is_file() or (run / LAST_MODEL).is_file():
            return run
    raise UserError(
        f"No trained model found under '{model_dir}'. Run training first (1.train / dl-suite train), "
        f"or pass --run RUN_DIR."
    )


def model_file(run_dir):
    """The best model of a run, else its last checkpoint."""
    run_dir = Path(run_dir)
    for name in (BEST_MODEL, LAST_MODEL):
        if (run_dir / name).is_file():
            return run_dir / name
    raise UserError(f"The run folder '{run_dir}' holds no model ({BEST_MODEL} or {LAST_MODEL}).")


def resolve_run(cfg, run=None):
    """The run to evaluate or infer with: `run` if given, else the latest under train.model_dir."""
    if run:
        run = Path(run)
        if not run.is_dir():
            raise UserError(f"Run folder not found: '{run}'.")
        return run
    return latest_run(cfg["train"]["model_dir"])


def latest_resumable(model_dir):
    """The newest run that did not finish (for `train --resume` without a folder).

    Raises:
        UserError: no unfinished run exists.
    """
    for run in reversed(list_runs(model_dir)):
        if read_status(run).get("status") != "complete":
            return run
    raise UserError(f"No unfinished run under '{model_dir}' to resume. Start a new run without --resume.")
