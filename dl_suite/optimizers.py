"""Optimisers and learning-rate schedules, selected by config strings.

Schedules (train.lr_schedule):
- "plateau" (default): a constant learning rate that `ReduceLROnPlateau` lowers
  (train.learning_rate_reducer, reducer_factor, reducer_patience); warm-up is a callback.
- "constant": no change (warm-up still applies).
- "cosine": cosine decay from `learning_rate` to `lr_min` over all training steps; with a
  time budget (train.max_train_minutes) over the budget or the epochs, whichever ends first
  (`dl_suite.callbacks.BudgetCosine`).
- "step": multiply by `lr_step_factor` every `lr_step_epochs` epochs.
Warm-up (train.warmup_epochs) raises the rate linearly from ~0 to `learning_rate` first.

Schedules count optimizer steps, which `model.keras` stores with the optimizer state, so a resumed
run continues the schedule where it stopped.
"""

import logging
import math

import keras
from keras import ops

from dl_suite.registry import Registry

logger = logging.getLogger(__name__)

OPTIMIZERS = Registry("optimizer")
SCHEDULES = Registry("schedule")


# ----------------------------------------------------------------------------------------------
# Schedules
# ----------------------------------------------------------------------------------------------
@keras.saving.register_keras_serializable(package="dl_suite")
class WarmUpSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up over `warmup_steps`, then `after` (a schedule or a float).

    Args:
        learning_rate: the rate reached at the end of the warm-up.
        warmup_steps: number of optimizer steps of the warm-up (0 disables it).
        after: the schedule to follow (a `LearningRateSchedule`) or None for constant.
    """

    def __init__(self, learning_rate, warmup_steps, after=None):
        self.learning_rate = float(learning_rate)
        self.warmup_steps = int(warmup_steps)
        self.after = after

    def __call__(self, step):
        step = ops.cast(step, "float32")
        target = self.learning_rate if self.after is None else self.after(step - self.warmup_steps)
        if self.warmup_steps <= 0:
            return ops.cast(target, "float32")
        warm = self.learning_rate * (step + 1.0) / float(self.warmup_steps)
        return ops.where(step < self.warmup_steps, warm, ops.cast(target, "float32"))

    def get_config(self):
        after = None
        if self.after is not None:
            after = keras.saving.serialize_keras_object(self.after)
        return {
            "learning_rate": self.learning_rate,
            "warmup_steps": self.warmup_steps,
            "after": after,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if config.get("after") is not None:
            config["after"] = keras.saving.deserialize_keras_object(config["after"])
        return cls(**config)


@SCHEDULES.register("constant", aliases=("none",))
def _constant(learning_rate, **_):
    return None


@SCHEDULES.register("plateau", aliases=("reduce_on_plateau",))
def _plateau(learning_rate, **_):
    return None  # ReduceLROnPlateau (a callback) changes the rate.


@SCHEDULES.register("cosine", aliases=("cosine_decay",))
def _cosine(learning_rate, *, decay_steps, min_lr=0.0, **_):
    alpha = min_lr / learning_rate if learning_rate > 0 else 0.0
    return keras.optimizers.schedules.CosineDecay(
        learning_rate, decay_steps=max(1, decay_steps), alpha=alpha
    )


@SCHEDULES.register("step", aliases=("step_decay", "exponential_step"))
def _step(learning_rate, *, steps_per_epoch, step_epochs=10, step_factor=0.5, **_):
    return keras.optimizers.schedules.ExponentialDecay(
        learning_rate,
        decay_steps=max(1, steps_per_epoch * step_epochs),
        decay_rate=step_factor,
        staircase=True,
    )


def build_schedule(
    name,
    learning_rate,
    *,
    steps_per_epoch,
    epochs,
    warmup_epochs=0,
    min_lr=0.0,
    step_epochs=10,
    step_factor=0.5,
):
    """The learning rate to give the optimiser: a float or a `LearningRateSchedule`.

    Returns a plain float for "plateau"/"constant" without warm-up, so `ReduceLROnPlateau`
    can change it. For "plateau" with warm-up, the warm-up is done by `WarmUpCallback` (see
    `dl_suite.callbacks`), so this returns the float too.
    """
    factory = SCHEDULES.get(name)
    warmup_steps = int(warmup_epochs) * int(steps_per_epoch)
    decay_steps = int(steps_per_epoch) * max(1, int(epochs) - int(warmup_epochs))
    schedule = factory(
        float(learning_rate),
        decay_steps=decay_steps,
        steps_per_epoch=int(steps_per_epoch),
        min_lr=float(min_lr),
        step_epochs=int(step_epochs),
        step_factor=float(step_factor),
    )
    if SCHEDULES.canonical(name) == "plateau":
        return float(learning_rate)
    if warmup_steps > 0:
        return WarmUpSchedule(learning_rate, warmup_steps, after=schedule)
    return float(learning_rate) if schedule is None else schedule


# ----------------------------------------------------------------------------------------------
# Optimisers
# ----------------------------------------------------------------------------------------------
@OPTIMIZERS.register("adam")
def _adam(learning_rate, *, weight_decay=None, **common):
    return keras.optimizers.Adam(learning_rate, weight_decay=weight_decay, **common)


@OPTIMIZERS.register("adamw")
def _adamw(learning_rate, *, weight_decay=None, **common):
    return keras.optimizers.AdamW(
        learning_rate, weight_decay=0.004 if weight_decay is None else weight_decay, **common
    )


@OPTIMIZERS.register("sgd")
def _sgd(learning_rate, *, momentum=0.9, nesterov=False, weight_decay=None, **common):
    return keras.optimizers.SGD(
        learning_rate, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay, **common
    )


@OPTIMIZERS.register("rmsprop")
def _rmsprop(learning_rate, *, momentum=0.0, weight_decay=None, **common):
    return keras.optimizers.RMSprop(
        learning_rate, momentum=momentum, weight_decay=weight_decay, **common
    )


def build_optimizer(
    name,
    learning_rate,
    clipvalue=None,
    clipnorm=None,
    schedule=None,
    *,
    momentum=None,
    weight_decay=None,
    nesterov=False,
    cfg=None,
    steps_per_epoch=None,
):
    """Builds a Keras optimiser from config values.

    Args:
        name: "adam", "adamw", "sgd" or "rmsprop".
        learning_rate: the base learning rate (float).
        clipvalue: clip each gradient element to [-clipvalue, clipvalue], or None.
        clipnorm: clip each gradient tensor to this L2 norm, or None.
        schedule: a `LearningRateSchedule` (overrides `learning_rate`), or None.
        momentum: SGD / RMSprop momentum; None = 0.9 for SGD, 0.0 for RMSprop.
        weight_decay: decoupled weight decay (AdamW default 0.004), or None.
        nesterov: Nesterov momentum for SGD.
        cfg: optional canonical config (section -> dict). When given, the schedule,
            warm-up, momentum, weight decay and Nesterov options are read from
            `cfg["train"]` (explicit arguments win where not None).
        steps_per_epoch: steps per epoch for epoch-based schedules (default
            `cfg["train"]["steps_per_epoch"]`, else 100 with a warning).

    `cfg["train"]["ema_momentum"]` (when set) makes the optimiser keep an exponential moving
    average of the weights (`use_ema`); `dl_suite.callbacks.averaging` puts it to use.

    Returns:
        A `keras.optimizers.Optimizer`.

    Raises:
        UnknownNameError: unknown optimiser or schedule name.
        ValueError: both clipvalue and clipnorm are set, or a non-positive learning rate.
    """
    if learning_rate is None or not learning_rate > 0 or not math.isfinite(learning_rate):
        raise ValueError(
            f"Received `learning_rate={learning_rate}`, expected a positive number such as "
            "1e-3 or 1e-4. To fix: set model.learning_rate in the config."
        )
    if clipvalue is not None and clipnorm is not None:
        raise ValueError(
            f"Received both `clipvalue={clipvalue}` and `clipnorm={clipnorm}`; Keras accepts "
            "only one. To fix: remove one of them from the [model] section."
        )
    if cfg is not None and schedule is None:
        train = cfg["train"]
        momentum = train.get("momentum") if momentum is None else momentum
        weight_decay = train.get("weight_decay") if weight_decay is None else weight_decay
        nesterov = nesterov or bool(train.get("nesterov", False))
        if steps_per_epoch is None:
            steps_per_epoch = train.get("steps_per_epoch")
        schedule_name = schedule_name_from_config(train)
        if steps_per_epoch is None and (
            schedule_name not in ("plateau", "constant") or train.get("warmup_epochs", 0)
        ):
            logger.warning(
                "train.steps_per_epoch is not set; the %s learning-rate schedule assumes 100 "
                "steps per epoch. Set steps_per_epoch for an exact schedule.", schedule_name
            )
        if steps_per_epoch is None:
            steps_per_epoch = 100
        lr = float(learning_rate) if uses_budget_cosine(train) else build_schedule(
            schedule_name,
            learning_rate,
            steps_per_epoch=steps_per_epoch,
            epochs=train.get("epochs", 1),
            warmup_epochs=0 if schedule_name == "plateau" else train.get("warmup_epochs", 0),
            min_lr=train.get("lr_min", 0.0),
            step_epochs=train.get("lr_step_epochs", 10),
            step_factor=train.get("lr_step_factor", 0.5),
        )
        if not isinstance(lr, float):
            schedule = lr
    factory = OPTIMIZERS.get(name)
    kwargs = {"clipvalue": clipvalue, "clipnorm": clipnorm, "weight_decay": weight_decay}
    ema_momentum = None if cfg is None else cfg["train"].get("ema_momentum")
    if ema_momentum:
        kwargs.update(use_ema=True, ema_momentum=float(ema_momentum))
    if OPTIMIZERS.canonical(name) in ("sgd", "rmsprop") and momentum is not None:
        kwargs["momentum"] = float(momentum)
    if OPTIMIZERS.canonical(name) == "sgd":
        kwargs["nesterov"] = bool(nesterov)
    return factory(schedule if schedule is not None else float(learning_rate), **kwargs)


def uses_budget_cosine(train):
    """Whether the 'cosine' schedule follows the time budget (`BudgetCosine`, a callback that
    sets a float rate) instead of a `CosineDecay` over all epochs: when max_train_minutes is set."""
    return schedule_name_from_config(train) == "cosine" and bool(train.get("max_train_minutes"))


def schedule_name_from_config(train):
    """The effective schedule: "plateau" becomes "constant" when the reducer is off."""
    name = SCHEDULES.canonical(train.get("lr_schedule", "plateau"))
    if name == "plateau" and not train.get("learning_rate_reducer", True):
        return "constant"
    return name
