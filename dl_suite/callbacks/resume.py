"""Resumable state: everything `train --resume` needs, saved atomically after every epoch."""

import json
import logging
import time
from pathlib import Path

import keras
import numpy as np

from dl_suite import losses as _losses  # noqa: F401  (registers serializable losses)
from dl_suite import metrics as _metrics  # noqa: F401  (registers serializable metrics)
from dl_suite import optimizers as _optimizers  # noqa: F401  (registers schedules)
from dl_suite.io import load_keras_model, read_json, remove_file, save_keras_model, write_text

from dl_suite.callbacks.common import (  # noqa: F401
    CALLBACKS,
    BEST_MODEL,
    LAST_MODEL,
    HISTORY_FILE,
    CURVES_FILE,
    RESUME_DIR,
    STATE_FILE,
    CHECKPOINT_DIR,
    HIGHER_IS_BETTER,
    monitor_mode,
    _finite,
    _json_number,
)

from dl_suite.callbacks.history import _current_lr

logger = logging.getLogger(__name__)



# Attributes of Keras callbacks needed to continue exactly where a run stopped.
_TRACKED_ATTRIBUTES = {
    "reduce_lr": ("wait", "best", "cooldown_counter"),
    "early_stopping": ("wait", "best", "best_epoch"),
    "best_checkpoint": ("best",),
    "cooldown": ("start_rate", "reached"),
}


@CALLBACKS.register("resume_state")
class ResumableState(keras.callbacks.Callback):
    """After every epoch, atomically saves what `--resume` needs into `run_dir/resume/`.

    Files: `model_epoch_NNN.keras` (model with optimizer state: weights, moments, step count,
    hence the LR schedule position and the current plateau learning rate) and `state.json`
    (written after the model, atomically): `{"epoch": completed epochs, "model_file": ...,
    "history": [...], "callbacks": {"reduce_lr": {...}, "early_stopping": {...},
    "best_checkpoint": {...}, "cooldown": {...}}, "learning_rate": ..., "rng_states": [...], "train_seconds": ...,
    "saved": "..."}` (`rng_states`: the layers' random-generator states, e.g. dropout; not in
    the model file; `train_seconds`: training time of all sessions so far, from which a resumed
    run's time budget and budget cosine continue). The previous model file
    is deleted only after the new state points at the new one, so a `kill -9` at any moment
    leaves a consistent state (at most the running epoch is lost).

    It must come after the callbacks it tracks in the list: on resume, its `on_train_begin`
    puts their saved state back after Keras has reset them.

    Args:
        run_dir: the run folder.
        tracked: mapping from a key of `_TRACKED_ATTRIBUTES` to the callback instance.
        history: the `HistoryLogger` whose rows are stored (optional).
        resume_state: the dict from `load_resume_state`, restored at train begin (optional).
    """

    def __init__(self, run_dir, tracked=None, history=None, resume_state=None):
        super().__init__()
        self.folder = Path(run_dir) / RESUME_DIR
        self.tracked = dict(tracked or {})
        self.history = history
        self.resume_state = resume_state
        self._started = None

    def train_seconds(self):
        """Training time of this run so far: earlier sessions plus this `fit`."""
        now = time.time()
        return seconds_trained(self.resume_state) + now - (self._started or now)

    def on_train_begin(self, logs=None):
        self._started = time.time()
        if not self.resume_state:
            return
        saved = self.resume_state.get("callbacks", {})
        for key, callback in self.tracked.items():
            for attribute, value in saved.get(key, {}).items():
                if attribute == "best" and value is None:
                    continue  # keep the callback's own initial best (+-inf)
                setattr(callback, attribute, value)

    def on_epoch_end(self, epoch, logs=None):
        if not all(_finite(v) for v in (logs or {}).values()):
            logger.warning("Epoch %d has non-finite values; resume state not updated.", epoch + 1)
            return
        model_name = f"model_epoch_{epoch + 1:03d}.keras"
        save_keras_model(self.model, self.folder / model_name)
        state = {
            "epoch": epoch + 1,
            "model_file": model_name,
            "history": self.history.rows if self.history is not None else [],
            "callbacks": {
                key: {a: _json_number(getattr(cb, a, None)) if a == "best" else getattr(cb, a, None)
                      for a in _TRACKED_ATTRIBUTES[key]}
                for key, cb in self.tracked.items()
            },
            "learning_rate": _current_lr(self.model),
            "rng_states": [np.asarray(v).tolist() for v in _seed_states(self.model)],
            "train_seconds": round(self.train_seconds(), 3),
            "saved": time.strftime("%Y-%m-%d %H:%M:%S"),
        }
        write_text(self.folder / STATE_FILE, json.dumps(state, indent=1, default=_json_default))
        for old in self.folder.glob("model_epoch_*.keras"):
            if old.name != model_name:
                remove_file(old)


def seconds_trained(resume_state):
    """Training time (s) a resumed run already spent in its earlier sessions (0 for a new run
    or a state saved before `train_seconds` was recorded)."""
    return float((resume_state or {}).get("train_seconds") or 0.0)


def _seed_states(model):
    """The random-generator state variables of the model's layers (dropout etc.), in order.

    They are not part of the saved model, so without them a resumed run would draw other
    dropout masks than an uninterrupted one.
    """
    return [v for v in model.variables if v.name == "seed_generator_state"]


def _restore_seed_states(model, saved):
    if not saved:
        return
    variables = _seed_states(model)
    if len(variables) != len(saved):
        logger.warning("Resume: %d random-generator states saved, the model has %d; dropout "
                       "continues with fresh states.", len(saved), len(variables))
        return
    for variable, value in zip(variables, saved):
        variable.assign(np.asarray(value, dtype=variable.dtype))


def _json_default(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return _json_number(value)
    return str(value)


def load_resume_state(run_dir, compile=True):
    """Loads the state saved by `ResumableState` to continue an interrupted run.

    Args:
        run_dir: the run folder.
        compile: restore the compiled model (loss, metrics, optimizer state).

    Returns:
        None if the run has no resumable state (no epoch finished), else a dict:
        `model` (the `keras.Model`, compiled, optimizer state restored), `epoch` (number of
        completed epochs: pass it as `initial_epoch` to `model.fit`), `history` (list of
        per-epoch dicts), `callbacks` (saved callback states), `learning_rate`,
        `model_path`. Pass the dict as `resume_state=` to `build_callbacks`.

    Raises:
        ValueError: the state file exists but its model file is missing or unreadable.
    """
    folder = Path(run_dir) / RESUME_DIR
    state_path = folder / STATE_FILE
    if not state_path.is_file():
        return None
    state = read_json(state_path)
    model_path = folder / state["model_file"]
    if not model_path.is_file():
        raise ValueError(
            f"Received a resume state '{state_path}' that names '{model_path.name}', which is "
            "missing. Expected both in the run's resume/ folder. To fix: resume from another "
            "run, or start a new run (optionally with train.pretrained_weights)."
        )
    state["model"] = load_keras_model(model_path, compile=compile)
    _restore_seed_states(state["model"], state.get("rng_states"))
    state["model_path"] = model_path
    return state
