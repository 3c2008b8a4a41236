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

import json
import logging
import math
import time
from pathlib import Path

import keras
import numpy as np

from dl_suite import losses as _losses  # noqa: F401  (registers serializable losses)
from dl_suite import metrics as _metrics  # noqa: F401  (registers serializable metrics)
from dl_suite import optimizers as _optimizers  # noqa: F401  (registers schedules)
from dl_suite.io import read_json, remove_file, save_figure, save_keras_model, write_image, write_text
from dl_suite.registry import Registry

logger = logging.getLogger(__name__)

CALLBACKS = Registry("callback")

BEST_MODEL = "model.keras"
LAST_MODEL = "model_last.keras"
HISTORY_FILE = "history.csv"
CURVES_FILE = "curves.png"
RESUME_DIR = "resume"
STATE_FILE = "state.json"
CHECKPOINT_DIR = "checkpoints"
HIGHER_IS_BETTER = ("acc", "dice", "iou", "jaccard", "precision", "recall", "f1", "auc")


def monitor_mode(monitor, mode="auto"):
    """'max' for accuracy-like quantities (dice, iou, accuracy, ...), else 'min'."""
    if mode in ("min", "max"):
        return mode
    return "max" if any(key in monitor.lower() for key in HIGHER_IS_BETTER) else "min"


def _finite(value):
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return True


def _json_number(value):
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


# ----------------------------------------------------------------------------------------------
# Stopping and safety
# ----------------------------------------------------------------------------------------------
@CALLBACKS.register("soft_stop")
class SoftStop(keras.callbacks.Callback):
    """Stops training cleanly after the epoch in which `path` appears.

    A file that already existed when training began is ignored (it is left over from an
    earlier stop), so `--resume` does not stop at once; touch it again to stop.
    """

    def __init__(self, path):
        super().__init__()
        self.path = Path(path)
        self._started = None
        self.stopped_epoch = None

    def on_train_begin(self, logs=None):
        self._started = time.time()
        if self.path.exists():
            logger.warning("Ignoring the old stop file %s; create it again to stop.", self.path)

    def on_epoch_end(self, epoch, logs=None):
        if self.path.exists() and self.path.stat().st_mtime >= (self._started or 0) - 1:
            logger.info("Stop file %s found: training ends after epoch %d.", self.path, epoch + 1)
            self.stopped_epoch = epoch
            self.model.stop_training = True


@CALLBACKS.register("terminate_on_nan")
class NaNGuard(keras.callbacks.Callback):
    """Stops on a NaN/inf loss and restores the weights of the last epoch that was finite."""

    def __init__(self):
        super().__init__()
        self._good_weights = None
        self.stopped = False

    def on_train_begin(self, logs=None):
        self._good_weights = [np.array(w) for w in self.model.get_weights()]

    def _trip(self, where, logs):
        bad = {k: v for k, v in (logs or {}).items() if not _finite(v)}
        logger.error(
            "Non-finite values %s at %s: stopping and restoring the last good weights. "
            "Try a lower learning rate, clipnorm/clipvalue, or check the masks.", bad, where
        )
        self.model.set_weights(self._good_weights)
        self.model.stop_training = True
        self.stopped = True

    def on_train_batch_end(self, batch, logs=None):
        if not self.stopped and not _finite((logs or {}).get("loss", 0.0)):
            self._trip(f"batch {batch}", logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.stopped:
            return
        if all(_finite(v) for v in (logs or {}).values()):
            self._good_weights = [np.array(w) for w in self.model.get_weights()]
        else:
            self._trip(f"the end of epoch {epoch + 1}", logs)


@CALLBACKS.register("warmup")
class WarmUpCallback(keras.callbacks.Callback):
    """Linear per-epoch warm-up of a float learning rate (used with the 'plateau' schedule).

    Epoch e < warmup_epochs runs at learning_rate * (e + 1) / (warmup_epochs + 1); epoch
    `warmup_epochs` sets `learning_rate`; later epochs are left to ReduceLROnPlateau.
    """

    def __init__(self, learning_rate, warmup_epochs):
        super().__init__()
        self.learning_rate = float(learning_rate)
        self.warmup_epochs = int(warmup_epochs)

    def on_epoch_begin(self, epoch, logs=None):
        if epoch < self.warmup_epochs:
            rate = self.learning_rate * (epoch + 1) / (self.warmup_epochs + 1)
        elif epoch == self.warmup_epochs:
            rate = self.learning_rate
        else:
            return
        self.model.optimizer.learning_rate = rate


@CALLBACKS.register("periodic_checkpoint")
class PeriodicCheckpoint(keras.callbacks.Callback):
    """Saves `checkpoints/epoch_NNN.keras` (or `.weights.h5`) every `every_n_epochs` epochs."""

    def __init__(self, folder, every_n_epochs, weights_only=False):
        super().__init__()
        self.folder = Path(folder)
        self.every_n_epochs = int(every_n_epochs)
        self.weights_only = bool(weights_only)

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every_n_epochs:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.weights_only:
            self.model.save_weights(self.folder / f"epoch_{epoch + 1:03d}.weights.h5")
        else:
            _save_model_atomic(self.model, self.folder / f"epoch_{epoch + 1:03d}.keras")


# ----------------------------------------------------------------------------------------------
# Previews
# ----------------------------------------------------------------------------------------------
def _to_uint8_rgb(panel):
    panel = np.asarray(panel, dtype="float32")
    if panel.ndim == 3 and panel.shape[-1] not in (1, 3):
        panel = panel[..., :1]
    if panel.ndim == 2:
        panel = panel[..., None]
    lo, hi = float(np.nanmin(panel)), float(np.nanmax(panel))
    if lo >= 0.0 and hi <= 1.0:
        scaled = panel
    else:
        scaled = (panel - lo) / (hi - lo) if hi > lo else np.zeros_like(panel)
    out = np.clip(np.nan_to_num(scaled) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return np.repeat(out, 3, axis=-1) if out.shape[-1] == 1 else out


def prediction_panel(prediction, threshold=None):
    """A displayable (H, W) float map in [0, 1] from a model output (H, W, K)."""
    prediction = np.asarray(prediction, dtype="float32")
    if prediction.ndim == 2:
        prediction = prediction[..., None]
    if prediction.shape[-1] > 1:
        return prediction.argmax(-1) / float(prediction.shape[-1] - 1)
    panel = prediction[..., 0]
    return (panel >= threshold).astype("float32") if threshold is not None else panel


def make_preview_grid(images, predictions, masks=None, threshold=None, gap=4):
    """One row per image: image | [true mask] | prediction, as a uint8 RGB array.

    Rows of different sizes are padded with black, so tiled previews of whole images work.
    """
    rows = []
    for index, (image, prediction) in enumerate(zip(images, predictions)):
        panels = [_to_uint8_rgb(image)]
        if masks is not None:
            mask = np.asarray(masks[index], dtype="float32")
            if mask.ndim == 3:
                mask = mask[..., 0]
            panels.append(_to_uint8_rgb(mask / max(1.0, float(mask.max()))))
        panels.append(_to_uint8_rgb(prediction_panel(prediction, threshold)))
        height = max(p.shape[0] for p in panels)
        padded = [np.pad(p, ((0, height - p.shape[0]), (0, gap), (0, 0))) for p in panels]
        rows.append(np.concatenate(padded, axis=1))
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, gap), (0, width - r.shape[1]), (0, 0))) for r in rows]
    return np.concatenate(rows, axis=0)


def _first_output(output):
    if isinstance(output, (list, tuple)):
        output = output[0]
    if isinstance(output, dict):
        output = next(iter(output.values()))
    return keras.ops.convert_to_numpy(output)


def predict_padded(model, image, multiple=32):
    """Predicts one (H, W, C) image with a fully convolutional model.

    A model with a fixed input size sees the image cropped/padded to that size (top-left); a
    model with free input size sees it reflect-padded to a multiple of `multiple`. The
    prediction is cropped back to the image area.
    """
    image = np.asarray(image, dtype="float32")
    if image.ndim == 2:
        image = image[..., None]
    height, width = image.shape[:2]
    shape = model.inputs[0].shape if getattr(model, "inputs", None) else (None, None, None)
    target_h, target_w = shape[1], shape[2]
    if target_h is None or target_w is None:
        target_h = -(-height // multiple) * multiple
        target_w = -(-width // multiple) * multiple
    crop = image[:target_h, :target_w]
    pad_h, pad_w = target_h - crop.shape[0], target_w - crop.shape[1]
    mode = "reflect" if pad_h < crop.shape[0] and pad_w < crop.shape[1] else "constant"
    batch = np.pad(crop, ((0, pad_h), (0, pad_w), (0, 0)), mode=mode)[None]
    output = _first_output(model(batch, training=False))[0]
    return output[: crop.shape[0], : crop.shape[1]]


def tiled_predict_fn(tile_size, overlap=None, halo=None, input_multiple=32):
    """A `predict_fn(model, image)` that predicts whole images tile by tile (tiled previews).

    Args:
        tile_size: model input size (int or (rows, cols)).
        overlap, halo: tile overlap and discarded context per side; default 1/8 of the
            smaller tile side (at most 32 pixels).
        input_multiple: tile sizes are multiples of this (2 ** number of poolings).
    """
    rows, cols = (tile_size, tile_size) if isinstance(tile_size, int) else tile_size
    default = min(32, min(rows, cols) // 8)
    overlap = default if overlap is None else overlap
    halo = default if halo is None else halo

    def predict(model, image):
        from dl_suite.inference.tiling import predict_tiled

        return predict_tiled(
            image, lambda batch: _predict_batch(model, batch), tile_size=(rows, cols),
            overlap=overlap, halo=halo, input_multiple=input_multiple, progress=False,
        )

    return predict


def _predict_batch(model, batch):
    """Predicts (N, h, w, C); pads up to a fixed model input size and crops back."""
    shape = model.inputs[0].shape if getattr(model, "inputs", None) else (None, None, None)
    height, width = batch.shape[1:3]
    pad_h = 0 if shape[1] is None else max(0, shape[1] - height)
    pad_w = 0 if shape[2] is None else max(0, shape[2] - width)
    if pad_h or pad_w:
        batch = np.pad(batch, ((0, 0), (0, pad_h), (0, pad_w), (0, 0)), mode="edge")
    return _first_output(model(batch, training=False))[:, :height, :width]


@CALLBACKS.register("epoch_change_infer")
class EpochChangeInference(keras.callbacks.Callback):
    """Writes `out_dir/epoch_NNN.png`: predictions for fixed images after every N epochs.

    Args:
        images: list of (H, W[, C]) arrays (any sizes), preprocessed as the model expects.
        out_dir: folder of the PNG grids.
        masks: optional list of true masks, shown next to the predictions.
        every_n_epochs: write a grid every N epochs (and after the last one).
        predict_fn: `predict_fn(model, image) -> (H, W, K)`; default `predict_padded`; pass
            `tiled_predict_fn(...)` for tiled previews of whole images.
        threshold: show the thresholded mask instead of the probability map.
        tensorboard_dir: also log the grid as a TensorBoard image there (needs TensorFlow).
    """

    def __init__(self, images, out_dir, masks=None, every_n_epochs=1, predict_fn=None,
                 threshold=None, tensorboard_dir=None):
        super().__init__()
        self.images = list(images)
        self.masks = None if masks is None else list(masks)
        self.out_dir = Path(out_dir)
        self.every_n_epochs = max(1, int(every_n_epochs))
        self.predict_fn = predict_fn or predict_padded
        self.threshold = threshold
        self.tensorboard_dir = tensorboard_dir
        self._writer = None

    def on_epoch_end(self, epoch, logs=None):
        if not self.images or (epoch + 1) % self.every_n_epochs:
            return
        predictions = [self.predict_fn(self.model, image) for image in self.images]
        grid = make_preview_grid(self.images, predictions, self.masks, self.threshold)
        write_image(self.out_dir / f"epoch_{epoch + 1:03d}.png", grid)
        if self.tensorboard_dir:
            self._log_tensorboard(grid, epoch)

    def _log_tensorboard(self, grid, epoch):
        try:
            import tensorflow as tf
        except ImportError:
            logger.warning("TensorBoard preview images need TensorFlow; skipping them.")
            self.tensorboard_dir = None
            return
        if self._writer is None:
            self._writer = tf.summary.create_file_writer(str(self.tensorboard_dir))
        with self._writer.as_default():
            tf.summary.image("epoch_change_infer", grid[None], step=epoch + 1)
        self._writer.flush()


# ----------------------------------------------------------------------------------------------
# History, curves
# ----------------------------------------------------------------------------------------------
def _current_lr(model):
    try:
        return float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
    except (AttributeError, TypeError, ValueError):
        return None


@CALLBACKS.register("history")
class HistoryLogger(keras.callbacks.Callback):
    """Keeps the full history (continued across resumes) and rewrites `history.csv` and
    `curves.png` atomically after every epoch, so they are never half-written or duplicated.

    Args:
        run_dir: the run folder.
        initial_history: list of per-epoch dicts from an earlier part of the run (resume).
        curves: also draw `curves.png`.
    """

    def __init__(self, run_dir, initial_history=None, curves=True):
        super().__init__()
        self.run_dir = Path(run_dir)
        self.rows = [dict(row) for row in (initial_history or [])]
        self.curves = curves

    def on_epoch_end(self, epoch, logs=None):
        row = {"epoch": epoch + 1}
        row.update({k: float(v) for k, v in (logs or {}).items() if np.ndim(v) == 0})
        if "learning_rate" not in row and self.model is not None:
            row["learning_rate"] = _current_lr(self.model)
        self.rows = [r for r in self.rows if r["epoch"] < epoch + 1] + [row]
        write_text(self.run_dir / HISTORY_FILE, history_to_csv(self.rows))
        if self.curves:
            plot_curves(self.rows, self.run_dir / CURVES_FILE)


def history_to_csv(rows):
    """CSV text of per-epoch dicts (columns: epoch, then sorted keys)."""
    keys = sorted({k for row in rows for k in row if k != "epoch"})
    lines = [",".join(["epoch"] + keys)]
    for row in rows:
        values = [str(row["epoch"])] + ["" if row.get(k) is None else repr(row[k]) for k in keys]
        lines.append(",".join(values))
    return "\n".join(lines) + "\n"


def plot_curves(rows, path):
    """Draws one panel per quantity (train and `val_` together) into `path` (PNG)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    names = sorted({k[4:] if k.startswith("val_") else k for row in rows for k in row} - {"epoch"})
    if not names:
        return
    epochs = [row["epoch"] for row in rows]
    figure = Figure(figsize=(4 * min(len(names), 4), 3 * math.ceil(len(names) / 4)))
    for index, name in enumerate(names):
        axis = figure.add_subplot(math.ceil(len(names) / 4), min(len(names), 4), index + 1)
        for key, label in ((name, "train"), (f"val_{name}", "val")):
            values = [row.get(key) for row in rows]
            if any(v is not None for v in values):
                axis.plot(epochs, [np.nan if v is None else v for v in values], label=label)
        axis.set_title(name)
        axis.set_xlabel("epoch")
        if name == "learning_rate":
            axis.set_yscale("log")
        axis.legend()
    figure.tight_layout()
    save_figure(figure, path)


# ----------------------------------------------------------------------------------------------
# Resume
# ----------------------------------------------------------------------------------------------
_save_model_atomic = save_keras_model


# Attributes of Keras callbacks needed to continue exactly where a run stopped.
_TRACKED_ATTRIBUTES = {
    "reduce_lr": ("wait", "best", "cooldown_counter"),
    "early_stopping": ("wait", "best", "best_epoch"),
    "best_checkpoint": ("best",),
}


@CALLBACKS.register("resume_state")
class ResumableState(keras.callbacks.Callback):
    """After every epoch, atomically saves what `--resume` needs into `run_dir/resume/`.

    Files: `model_epoch_NNN.keras` (model with optimizer state: weights, moments, step count,
    hence the LR schedule position and the current plateau learning rate) and `state.json`
    (written after the model, atomically): `{"epoch": completed epochs, "model_file": ...,
    "history": [...], "callbacks": {"reduce_lr": {...}, "early_stopping": {...},
    "best_checkpoint": {...}}, "learning_rate": ..., "saved": "..."}`. The previous model file
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

    def on_train_begin(self, logs=None):
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
        _save_model_atomic(self.model, self.folder / model_name)
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
            "saved": time.strftime("%Y-%m-%d %H:%M:%S"),
        }
        write_text(self.folder / STATE_FILE, json.dumps(state, indent=1, default=_json_default))
        for old in self.folder.glob("model_epoch_*.keras"):
            if old.name != model_name:
                remove_file(old)


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
    _import_model_layers()
    state["model"] = keras.saving.load_model(model_path, compile=compile)
    state["model_path"] = model_path
    return state


def _import_model_layers():
    """Registers the model package's custom layers before loading a `.keras` file."""
    try:
        import dl_suite.models  # noqa: F401
    except ImportError as exc:  # the model package is optional for loss/metric-only models
        logger.debug("dl_suite.models not importable: %s", exc)


# ----------------------------------------------------------------------------------------------
# Seeds, fine-tuning
# ----------------------------------------------------------------------------------------------
def set_global_seed(seed, deterministic=False):
    """Seeds Python, NumPy and the backend; optionally makes TensorFlow ops deterministic.

    On CPU, the same seed gives the same initial and trained weights.
    """
    keras.utils.set_random_seed(int(seed))
    if deterministic and keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


ENCODER_PREFIXES = ("enc", "encoder", "backbone", "stem", "bottleneck")


def load_pretrained_weights(model, path, freeze_encoder=False, encoder_prefixes=ENCODER_PREFIXES):
    """Fine-tuning: copies weights from a previous run's model, optionally freezing the encoder.

    Weights are matched by layer name; layers whose names or shapes differ (e.g. a new output
    head for another number of classes) keep their fresh initialisation and are logged.
    Compile (or re-compile) the model after calling this, so freezing takes effect.

    Args:
        model: the freshly built model.
        path: a `.keras` model or a `.weights.h5` file of the same architecture.
        freeze_encoder: set `trainable=False` on layers whose name starts with one of
            `encoder_prefixes` (the model builders name encoder layers `enc{i}_...`).

    Returns:
        dict with `loaded` and `skipped` layer names and `frozen` (count).

    Raises:
        ValueError: the file is missing or of an unknown type.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(
            f"Received `pretrained_weights='{path}'`, which does not exist. Expected a "
            "previous run's model.keras (or .weights.h5). To fix: correct the path."
        )
    loaded, skipped = [], []
    if path.name.endswith(".weights.h5") or path.suffix == ".h5":
        model.load_weights(path)
        loaded = [layer.name for layer in model.layers if layer.weights]
    elif path.suffix == ".keras":
        _import_model_layers()
        source = keras.saving.load_model(path, compile=False)
        by_name = {layer.name: layer for layer in source.layers}
        for layer in model.layers:
            if not layer.weights:
                continue
            other = by_name.get(layer.name)
            weights = other.get_weights() if other is not None else None
            if weights is not None and [w.shape for w in weights] == [
                tuple(w.shape) for w in layer.weights
            ]:
                layer.set_weights(weights)
                loaded.append(layer.name)
            else:
                skipped.append(layer.name)
    else:
        raise ValueError(
            f"Received `pretrained_weights='{path}'` of type '{path.suffix}'; expected a "
            "'.keras' model or a '.weights.h5' file."
        )
    if skipped:
        logger.warning("Pretrained weights: %d layer(s) not matched and left fresh: %s",
                       len(skipped), ", ".join(skipped[:10]))
    frozen = 0
    if freeze_encoder:
        for layer in model.layers:
            if layer.name.startswith(tuple(encoder_prefixes)):
                layer.trainable = False
                frozen += 1
        if frozen == 0:
            logger.warning("freeze_encoder is on but no layer name starts with %s.",
                           encoder_prefixes)
    logger.info("Fine-tuning from %s: %d layers loaded, %d frozen.", path, len(loaded), frozen)
    return {"loaded": loaded, "skipped": skipped, "frozen": frozen}


# ----------------------------------------------------------------------------------------------
# Assembly
# ----------------------------------------------------------------------------------------------
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
):
    """The callback list for `model.fit`, from the canonical config.

    Order matters: safety first (NaN guard), then the callbacks that change or judge the
    training (warm-up, LR reducer, early stopping, checkpoints), then outputs (history, previews,
    TensorBoard), then the resumable state (it must follow what it tracks), then the soft stop.

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
    suffix = ".weights.h5" if weights_only else ".keras"
    best_path = run_dir / BEST_MODEL.replace(".keras", suffix)
    last_path = run_dir / LAST_MODEL.replace(".keras", suffix)

    callbacks, tracked = [], {}
    if train.get("terminate_on_nan", True):
        callbacks.append(NaNGuard())

    learning_rate = float(model_cfg.get("learning_rate", 1e-3))
    schedule = _optimizers.schedule_name_from_config(train)
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
    patience = train.get("patience")
    if patience:
        stopper = keras.callbacks.EarlyStopping(
            monitor=monitor, mode=mode, patience=int(patience), verbose=1
        )
        callbacks.append(stopper)
        tracked["early_stopping"] = stopper

    best = keras.callbacks.ModelCheckpoint(
        best_path, monitor=monitor, mode=mode, save_best_only=True,
        save_weights_only=weights_only, verbose=1,
    )
    callbacks.append(best)
    tracked["best_checkpoint"] = best
    if not train.get("save_best_only", True) or train.get("save_last", True):
        callbacks.append(keras.callbacks.ModelCheckpoint(
            last_path, save_best_only=False, save_weights_only=weights_only, verbose=0
        ))
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
        common = dict(masks=masks, threshold=train.get("preview_threshold"),
                      tensorboard_dir=tensorboard_dir if train.get("tensorboard_images") else None)
        if train.get("epoch_change_infer", True):
            callbacks.append(EpochChangeInference(
                images, _resolve(run_dir, train.get("epoch_change_infer_dir"),
                                 "epoch_change_infer"),
                predict_fn=predict_fn, **common,
            ))
        if train.get("epoch_change_tiledinfer", False):
            tile = (model_cfg.get("image_height", 256), model_cfg.get("image_width", 256))
            common["tensorboard_dir"] = None
            callbacks.append(EpochChangeInference(
                images, _resolve(run_dir, train.get("epoch_change_tiledinfer_dir"),
                                 "epoch_change_tiledinfer"),
                predict_fn=tiled_predict_fn(tile), **common,
            ))
    if train.get("save_resume_state", True):
        callbacks.append(ResumableState(run_dir, tracked, history, resume_state))
    callbacks.append(SoftStop(run_dir / train.get("soft_stop_file", "STOP")))
    return callbacks


def _resolve(run_dir, configured, default):
    """Preview folders always live in the run folder (a legacy './x' becomes run_dir/x)."""
    return run_dir / (Path(configured).name if configured else default)
