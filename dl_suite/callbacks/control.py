"""Callbacks that steer training: soft stop, NaN guard, warm-up, budget cosine, periodic checkpoints."""

import logging
import time
from pathlib import Path

import keras
import numpy as np

from dl_suite import losses as _losses  # noqa: F401  (registers serializable losses)
from dl_suite import metrics as _metrics  # noqa: F401  (registers serializable metrics)
from dl_suite import optimizers as _optimizers  # noqa: F401  (registers schedules)
from dl_suite.io import save_keras_model

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

logger = logging.getLogger(__name__)

class SoftStop(keras.callbacks.Callback):
    """Stops training cleanly after the epoch in which `path` appears, or when the next epoch
    is not expected to finish within `max_seconds` of training.

    A file that already existed when training began is ignored (it is left over from an
    earlier stop), so `--resume` does not stop at once; touch it again to stop.

    Args:
        path: the stop file.
        max_seconds: time budget (None = none): training ends after the epoch at which the
            elapsed time plus the mean epoch time so far exceeds it.
        seconds_before: training time already spent on this run before this `fit` (a resumed
            run's `train_seconds`): the budget is the run's, not each session's.
    """

    def __init__(self, path, max_seconds=None, seconds_before=0.0):
        super().__init__()
        self.path = Path(path)
        self.max_seconds = max_seconds
        self.seconds_before = float(seconds_before or 0.0)
        self._started = None
        self._epochs = 0
        self.stopped_epoch = None

    def on_train_begin(self, logs=None):
        self._started = time.time()
        self._epochs = 0
        if self.path.exists():
            logger.warning("Ignoring the old stop file %s; create it again to stop.", self.path)

    def on_epoch_end(self, epoch, logs=None):
        self._epochs += 1
        if self.path.exists() and self.path.stat().st_mtime >= (self._started or 0) - 1:
            logger.info("Stop file %s found: training ends after epoch %d.", self.path, epoch + 1)
            self.stopped_epoch = epoch
            self.model.stop_training = True
        elif self.max_seconds is not None:
            elapsed = time.time() - (self._started or time.time())
            if self.seconds_before + elapsed + elapsed / self._epochs > self.max_seconds:
                logger.info("Time budget of %.1f min: training ends after epoch %d (%.1f min).",
                            self.max_seconds / 60, epoch + 1,
                            (self.seconds_before + elapsed) / 60)
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


@CALLBACKS.register("budget_cosine")
class BudgetCosine(keras.callbacks.Callback):
    """Cosine learning-rate decay over the training that actually happens.

    The 'cosine' schedule with a time budget (train.max_train_minutes): before every batch the
    rate is set from the progress p = max(elapsed / budget, step / total_steps), that is the
    time budget or the configured epochs, whichever ends first:
    lr = lr_min + (learning_rate - lr_min) * (1 + cos(pi * p)) / 2, after a linear warm-up of
    `warmup_steps`. An epoch-based cosine would hardly decay when the budget ends a run long
    before its `epochs`. A resumed run continues its clock from `seconds_before` (the training
    time of its earlier sessions, `train_seconds` of the resume state), as the soft stop does,
    so its rate goes on decaying from where it stopped instead of rising again.
    """

    def __init__(self, learning_rate, max_seconds, total_steps, lr_min=0.0, warmup_steps=0,
                 clock=time.monotonic, seconds_before=0.0):
        super().__init__()
        self.learning_rate = float(learning_rate)
        self.max_seconds = float(max_seconds)
        self.total_steps = max(1, int(total_steps))
        self.lr_min = float(lr_min)
        self.warmup_steps = int(warmup_steps)
        self.clock = clock
        self.seconds_before = float(seconds_before or 0.0)
        self._started = None

    def on_train_begin(self, logs=None):
        self._started = self.clock() - self.seconds_before

    def rate(self, step, elapsed):
        """The learning rate at optimizer step `step`, `elapsed` seconds into training."""
        if step < self.warmup_steps:  # the rule of `dl_suite.optimizers.WarmUpSchedule`
            return self.learning_rate * (step + 1) / self.warmup_steps
        progress = max(elapsed / self.max_seconds,
                       (step - self.warmup_steps) / max(1, self.total_steps - self.warmup_steps))
        progress = min(1.0, max(0.0, progress))
        return self.lr_min + (self.learning_rate - self.lr_min) * 0.5 * (1 + np.cos(np.pi * progress))

    def on_train_batch_begin(self, batch, logs=None):
        optimizer = self.model.optimizer
        step = int(keras.ops.convert_to_numpy(optimizer.iterations))
        optimizer.learning_rate = self.rate(step, self.clock() - self._started)


@CALLBACKS.register("cooldown")
class Cooldown(keras.callbacks.Callback):
    """A final learning-rate decay over the last part of the training (train.cooldown_fraction).

    For the float-rate schedules ('plateau', 'constant'): a run stopped by its time budget ends
    at whatever rate it has then, often before the reducer lowered it once. With a fraction f,
    before every batch the progress p = max(elapsed / end, step / total_steps) is measured
    (end: the time the soft stop will end the run, the budget rounded down to whole epochs of the
    mean duration so far; total_steps: the configured epochs). Once p reaches 1 - f, the rate
    then in use, `start_rate`, decays to lr_min along a half cosine:
    lr = lr_min + (start_rate - lr_min) * (1 + cos(pi q)) / 2 with q = (p - 1 + f) / f.
    Until then the rate is left alone (warm-up, the plateau reducer); from then on the reducers
    in `pause` are held in their cooldown, so they no longer change the rate. The progress
    never goes back (a later expected end, when epochs got faster, does not raise the rate).
    `start_rate` and `reached` (the progress so far) are part of the resumable state, and a
    resumed run continues its clock from `seconds_before`.

    Args:
        fraction: f, the share of the training that decays (0 < f < 1).
        max_seconds: the time budget in seconds, or None (then the epochs alone).
        total_steps: optimizer steps of all configured epochs.
        lr_min: the rate at the end.
        pause: `ReduceLROnPlateau` callbacks to hold during the decay.
        clock, seconds_before: as for `BudgetCosine`.
    """

    def __init__(self, fraction, max_seconds, total_steps, lr_min=0.0, pause=(),
                 clock=time.monotonic, seconds_before=0.0):
        super().__init__()
        self.fraction = float(fraction)
        self.max_seconds = None if max_seconds is None else float(max_seconds)
        self.total_steps = max(1, int(total_steps))
        self.lr_min = float(lr_min)
        self.pause = list(pause)
        self.clock = clock
        self.seconds_before = float(seconds_before or 0.0)
        self.start_rate = None
        self._started = None
        self._end = self.max_seconds
        self.reached = 0.0

    def expected_end(self, elapsed, epochs_done):
        """When the soft stop is expected to end the run (s): the epochs of the mean duration
        so far that fit into the budget (it stops when the next one would not fit)."""
        if self.max_seconds is None or epochs_done <= 0 or elapsed <= 0:
            return self.max_seconds
        epoch = elapsed / epochs_done
        return epoch * max(1, int(self.max_seconds // epoch))

    def progress(self, step, elapsed):
        """p: the share of the training done at optimizer step `step`, `elapsed` s in, and
        never less than `reached` before."""
        by_steps = step / self.total_steps
        by_time = 0.0 if not self._end else elapsed / self._end
        self.reached = min(1.0, max(by_steps, by_time, self.reached))
        return self.reached

    def rate(self, start_rate, progress):
        """The decayed rate at progress p from `start_rate` (the rate when the decay began)."""
        q = min(1.0, max(0.0, (progress - 1.0 + self.fraction) / self.fraction))
        return self.lr_min + (start_rate - self.lr_min) * 0.5 * (1 + np.cos(np.pi * q))

    def on_train_begin(self, logs=None):
        self._started = self.clock() - self.seconds_before
        self._end = self.max_seconds
        self.reached = 0.0  # a resumed run gets its own back from the resumable state

    def on_epoch_end(self, epoch, logs=None):  # epoch counts the earlier sessions too
        self._end = self.expected_end(self.clock() - self._started, epoch + 1)

    def on_train_batch_begin(self, batch, logs=None):
        optimizer = self.model.optimizer
        step = int(keras.ops.convert_to_numpy(optimizer.iterations))
        progress = self.progress(step, self.clock() - self._started)
        if progress < 1.0 - self.fraction:
            return
        if self.start_rate is None:
            self.start_rate = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
            logger.info("Cooldown: the learning rate decays from %.3g to %.3g over the last "
                        "%d%% of the training.", self.start_rate, self.lr_min,
                        round(100 * self.fraction))
        for reducer in self.pause:
            reducer.cooldown_counter = 10**9  # held: the decay owns the rate from now on
        optimizer.learning_rate = self.rate(self.start_rate, progress)


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
        suffix = ".weights.h5" if self.weights_only else ".keras"
        save_keras_model(self.model, self.folder / f"epoch_{epoch + 1:03d}{suffix}")


@CALLBACKS.register("atomic_checkpoint")
class AtomicCheckpoint(keras.callbacks.Callback):
    """Saves the model (or its weights) after an epoch, atomically (temp file, fsync, rename).

    Replaces `keras.callbacks.ModelCheckpoint`, which writes in place: a kill during its save
    leaves a corrupt `model.keras`.

    Args:
        path: `.keras` file, or `.weights.h5` for weights only.
        monitor, mode: the quantity and "min"/"max" judging "best" (with save_best_only).
        save_best_only: save only when `monitor` improved (`best` holds the best value).
        verbose: log each save at INFO level.
    """

    def __init__(self, path, monitor="val_loss", mode="min", save_best_only=False, verbose=0):
        super().__init__()
        self.path = Path(path)
        self.monitor = monitor
        self.mode = mode
        self.save_best_only = bool(save_best_only)
        self.verbose = verbose
        self.best = float("inf") if mode == "min" else -float("inf")

    def _improved(self, value):
        return value < self.best if self.mode == "min" else value > self.best

    def on_epoch_end(self, epoch, logs=None):
        if self.save_best_only:
            value = (logs or {}).get(self.monitor)
            if value is None or not _finite(value):
                logger.warning("Checkpoint: '%s' is not available (or not finite) after epoch %d; "
                               "model not saved.", self.monitor, epoch + 1)
                return
            value = float(value)
            if not self._improved(value):
                return
            if self.verbose:
                logger.info("Epoch %d: %s improved from %.5g to %.5g, saving %s", epoch + 1,
                            self.monitor, self.best, value, self.path.name)
            self.best = value
        save_keras_model(self.model, self.path)
