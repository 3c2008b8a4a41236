"""Training callbacks and the `build_callbacks` helper that assembles them from the config.

A run folder gets (names shared with `dl_suite.workflows.runs`):
- `model.keras`          best model (monitor, default `val_loss`)
- `model_last.keras`     model after the last epoch (unless save_best_only and not save_last)
- `checkpoints/epoch_NNN.keras`   every `save_freq` epochs (when set)
- `history.csv`, `curves.png`     rewritten atomically after every epoch
- `epoch_change_infer/epoch_NNN.png` (and `epoch_change_tiledinfer/`) preview grids
- `resume/state.json` + `resume/model_epoch_NNN.keras`   resumable state, see `load_resume_state`
- `tensorboard/`         when train.tensorboard is on
Creating a file named `STOP` (train.soft_stop_file) in the run folder ends training after the
current epoch.
"""

import logging
from functools import partial
from pathlib import Path

import keras

from dl_suite import losses as _losses  # noqa: F401  (registers serializable losses)
from dl_suite import metrics as _metrics  # noqa: F401  (registers serializable metrics)
from dl_suite import optimizers as _optimizers  # noqa: F401  (registers schedules)

from dl_suite.callbacks.averaging import (  # noqa: F401
    AveragedWeightsIn,
    AveragedWeightsOut,
    averaged_weights_callbacks,
)
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
    checkpoint_names,
    monitor_mode,
    _finite,
    _json_number,
)
from dl_suite.callbacks.control import (  # noqa: F401
    SoftStop,
    NaNGuard,
    WarmUpCallback,
    BudgetCosine,
    Cooldown,
    PeriodicCheckpoint,
    AtomicCheckpoint,
)
from dl_suite.callbacks.previews import (  # noqa: F401
    prediction_panel,
    make_preview_grid,
    predict_padded,
    tiled_predict_fn,
    EpochChangeInference,
)
from dl_suite.callbacks.history import (  # noqa: F401
    HistoryLogger,
    history_to_csv,
    plot_curves,
)
from dl_suite.callbacks.resume import (  # noqa: F401
    ResumableState,
    load_resume_state,
    seconds_trained,
)
from dl_suite.callbacks.setup import (  # noqa: F401
    set_global_seed,
    load_pretrained_weights,
)

logger = logging.getLogger(__name__)


def _section(cfg, name):
    try:
        return dict(cfg[name])
    except (KeyError, TypeError):
        return {}


def _has_validation(train):
    if any(train.get(k) for k in ("val_image_datapath", "val_mask_datapath", "val_datapath")):
        return True
    return bool(train.get("dataset_splitter", True)) and train.get("validation_split", 0.2) > 0


def build_callbacks(
    run_dir,
    cfg,
    *,
    preview_images=None,
    preview_masks=None,
    predict_fn=None,
    has_validation=None,
    resume_state=None,
    learning_rate=None,
):
    """The callback list for `model.fit`, from the canonical config.

    Order matters: safety first (NaN guard), then the callbacks that change or judge the
    training (warm-up, LR reducer, early stopping, checkpoints), then outputs (history, previews,
    TensorBoard), then the resumable state (it must follow what it tracks), then the soft stop.
    With `train.ema_momentum` the averaged weights are swapped in before the checkpoints and
    out again before the resumable state, which keeps the training weights.

    Args:
        run_dir: the run folder.
        cfg: mapping section -> dict (the canonical config); reads `train` and `model`.
        preview_images: images for the epoch-change previews (train.epoch_change_infer,
            train.num_infer_images); None disables them.
        preview_masks: optional true masks shown next to the previews.
        predict_fn: `predict_fn(model, image)` for the previews; default pads the image
            to the model input. Tiled previews (train.epoch_change_tiledinfer) use
            `tiled_predict_fn` with the model input size as tile size.
        has_validation: whether `fit` gets validation data (default: inferred from the
            config); without it, monitors named `val_*` watch the training value.
        resume_state: the dict from `load_resume_state` when continuing a run.
        learning_rate: the base rate the optimiser was built with (after the distribution's
            scaling rule) for warm-up and the budget cosine; default model.learning_rate.

    Returns:
        list of `keras.callbacks.Callback`.
    """
    run_dir = Path(run_dir)
    train, model_cfg = _section(cfg, "train"), _section(cfg, "model")
    if has_validation is None:
        has_validation = _has_validation(train)
    monitor = train.get("monitor") or "val_loss"
    if not has_validation and monitor.startswith("val_"):
        monitor = monitor[4:]
    mode = monitor_mode(monitor, train.get("monitor_mode", "auto"))
    weights_only = bool(train.get("save_weights_only", False))
    best_path, last_path = (run_dir / name for name in checkpoint_names(weights_only))

    callbacks, tracked = [], {}
    if train.get("terminate_on_nan", True):
        callbacks.append(NaNGuard())

    if learning_rate is None:
        learning_rate = model_cfg.get("learning_rate", 1e-3)
    learning_rate = float(learning_rate)
    schedule = _optimizers.schedule_name_from_config(train)
    if _optimizers.uses_budget_cosine(train):
        steps = int(train.get("steps_per_epoch") or 100)
        callbacks.append(BudgetCosine(
            learning_rate, 60.0 * train["max_train_minutes"],
            total_steps=steps * int(train.get("epochs", 1)), lr_min=train.get("lr_min", 0.0),
            warmup_steps=steps * int(train.get("warmup_epochs", 0)),
            seconds_before=seconds_trained(resume_state),
        ))
    if schedule == "plateau" and train.get("warmup_epochs", 0):
        callbacks.append(WarmUpCallback(learning_rate, train["warmup_epochs"]))
    if schedule == "plateau":
        reducer = keras.callbacks.ReduceLROnPlateau(
            monitor=monitor, mode=mode, factor=train.get("reducer_factor", 0.3),
            patience=train.get("reducer_patience", 3), min_lr=train.get("lr_min", 0.0),
            verbose=1,
        )
        callbacks.append(reducer)
        tracked["reduce_lr"] = reducer
    if train.get("cooldown_fraction") and schedule in ("plateau", "constant"):
        minutes = train.get("max_train_minutes")
        cooldown = Cooldown(
            train["cooldown_fraction"], None if minutes is None else 60.0 * minutes,
            total_steps=int(train.get("steps_per_epoch") or 100) * int(train.get("epochs", 1)),
            lr_min=train.get("lr_min", 0.0),
            pause=[tracked["reduce_lr"]] if "reduce_lr" in tracked else [],
            seconds_before=seconds_trained(resume_state),
        )
        callbacks.append(cooldown)
        tracked["cooldown"] = cooldown
    patience = train.get("patience")
    if patience:
        stopper = keras.callbacks.EarlyStopping(
            monitor=monitor, mode=mode, patience=int(patience), verbose=1
        )
        callbacks.append(stopper)
        tracked["early_stopping"] = stopper

    averaging = averaged_weights_callbacks() if train.get("ema_momentum") else None
    if averaging:
        callbacks.append(averaging[0])  # checkpoints and previews see the averaged weights
    best = AtomicCheckpoint(best_path, monitor=monitor, mode=mode, save_best_only=True,
                            verbose=1)
    callbacks.append(best)
    tracked["best_checkpoint"] = best
    if not train.get("save_best_only", True) or train.get("save_last", True):
        callbacks.append(AtomicCheckpoint(last_path))
    if train.get("save_freq"):
        callbacks.append(PeriodicCheckpoint(run_dir / CHECKPOINT_DIR, train["save_freq"],
                                            weights_only))

    history = HistoryLogger(
        run_dir, initial_history=(resume_state or {}).get("history"),
        curves=train.get("curves", True),
    )
    callbacks.append(history)

    tensorboard_dir = run_dir / "tensorboard" if train.get("tensorboard") else None
    if tensorboard_dir is not None:
        callbacks.append(keras.callbacks.TensorBoard(
            log_dir=str(tensorboard_dir),
            update_freq=train.get("tensorboard_update_freq", "epoch"),
        ))
    if preview_images is not None and len(preview_images):
        count = int(train.get("num_infer_images", 4))
        images = list(preview_images)[:count]
        masks = None if preview_masks is None else list(preview_masks)[:count]
        multiple = _input_multiple(model_cfg)
        common = dict(masks=masks, threshold=train.get("preview_threshold"),
                      tensorboard_dir=tensorboard_dir if train.get("tensorboard_images") else None)
        if train.get("epoch_change_infer", True):
            callbacks.append(EpochChangeInference(
                images, _resolve(run_dir, train.get("epoch_change_infer_dir"),
                                 "epoch_change_infer"),
                predict_fn=predict_fn or partial(predict_padded, multiple=multiple), **common,
            ))
        if train.get("epoch_change_tiledinfer", False):
            tile = (model_cfg.get("image_height", 256), model_cfg.get("image_width", 256))
            common["tensorboard_dir"] = None
            callbacks.append(EpochChangeInference(
                images, _resolve(run_dir, train.get("epoch_change_tiledinfer_dir"),
                                 "epoch_change_tiledinfer"),
                predict_fn=tiled_predict_fn(tile, input_multiple=multiple), **common,
            ))
    if averaging:
        callbacks.append(averaging[1])  # the resume state keeps the training weights
    if train.get("save_resume_state", True):
        callbacks.append(ResumableState(run_dir, tracked, history, resume_state))
    minutes = train.get("max_train_minutes")
    callbacks.append(SoftStop(run_dir / train.get("soft_stop_file", "STOP"),
                              max_seconds=None if minutes is None else 60.0 * minutes,
                              seconds_before=seconds_trained(resume_state)))
    return callbacks


def _input_multiple(model_cfg, default=32):
    """The model's input size multiple by the one rule (`dl_suite.models.input_multiple`);
    `default` only for partial configs that name no model."""
    section = dict(model_cfg)
    name = section.pop("name", None)
    if not name:
        return default
    from dl_suite.models import input_multiple

    return input_multiple(name, **section)


def _resolve(run_dir, configured, default):
    """Preview folders always live in the run folder (a legacy './x' becomes run_dir/x)."""
    return run_dir / (Path(configured).name if configured else default)
