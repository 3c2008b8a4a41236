"""Numeric precision and compilation of training (`[train] mixed_precision`, `jit_compile`,
`steps_per_execution`); `jit_compile = "fastest"` times the training step with and without XLA
on this machine and keeps the faster (`choose_jit_compile`).

Mixed precision computes in float16 / bfloat16 and keeps the weights in float32; every model's
output activation is float32 (`models.blocks.output_head`), so losses, metrics and saved
probability maps stay float32. Under `mixed_float16` Keras wraps the optimiser in a
`LossScaleOptimizer` (dynamic loss scaling) by itself when the model is compiled.

`mixed_float16` needs a GPU: on a machine without one (float16 on CPU is emulated and slower
than float32) training falls back to float32, says so in the log and records it in `run.json`
(`precision`). `mixed_bfloat16` runs anywhere; on CPUs without AMX / AVX512-BF16 it is usually
slower than float32 (see the README's performance section). `mixed_bfloat16_if_native` takes
bfloat16 only where the hardware computes it (`native_bfloat16`), float32 elsewhere, so one
config is fast on both kinds of machine.
"""

import contextlib
import logging
from dataclasses import dataclass

logger = logging.getLogger(__name__)

PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16", "mixed_bfloat16_if_native")
# CPU flags of native bfloat16 arithmetic (Linux names): AVX512-BF16 and AMX-BF16
BFLOAT16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")


@dataclass(frozen=True)
class Precision:
    """The dtype policy used, the one asked for, and why they differ (or "")."""

    policy: str = "float32"
    requested: str = "float32"
    note: str = ""

    def describe(self):
        return self.policy if not self.note else f"{self.policy} ({self.note})"


def has_gpu():
    """Whether the active Keras backend sees a GPU."""
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return bool(tf.config.list_physical_devices("GPU"))
    if backend == "jax":
        import jax

        return any(d.platform == "gpu" for d in jax.devices())
    if backend == "torch":
        import torch

        return torch.cuda.is_available()
    return False


def gpu_has_bfloat16():
    """Whether the backend's first GPU computes bfloat16 natively (compute capability 8.0 or
    higher); False when the backend does not say."""
    import keras

    backend = keras.backend.backend()
    try:
        if backend == "tensorflow":
            import tensorflow as tf

            details = tf.config.experimental.get_device_details(tf.config.list_physical_devices("GPU")[0])
            return tuple(details.get("compute_capability") or (0, 0)) >= (8, 0)
        if backend == "jax":
            import jax

            gpu = next(d for d in jax.devices() if d.platform == "gpu")
            return float(getattr(gpu, "compute_capability", 0) or 0) >= 8.0
        if backend == "torch":
            import torch

            return bool(torch.cuda.is_bf16_supported())
    except (IndexError, StopIteration, ValueError, TypeError, AttributeError, RuntimeError):
        pass
    return False


def native_bfloat16(gpu=None, cpu_flags=None):
    """(whether this machine computes bfloat16 natively, why) for
    `mixed_precision = "mixed_bfloat16_if_native"`: a GPU of compute capability 8.0 or higher,
    or, without a GPU, a CPU with AVX512-BF16 or AMX-BF16 (`BFLOAT16_CPU_FLAGS`). Elsewhere
    bfloat16 is emulated: a DeepCell training step ran 7-8x slower than float32 on an AVX2 CPU
    and 1.5x faster on an AVX512-BF16 one (docs/project_results.md "Machine B again").

    Args:
        gpu: whether a GPU is available (None: ask the backend).
        cpu_flags: the CPU's feature flags (None: read them; an empty set: unknown).
    """
    if has_gpu() if gpu is None else gpu:
        if gpu_has_bfloat16():
            return True, "the GPU computes bfloat16 (compute capability 8.0 or higher)"
        return False, "the GPU does not compute bfloat16 natively (compute capability below 8.0)"
    if cpu_flags is None:
        from dl_suite.io.provenance_files import cpu_flags as read_cpu_flags

        cpu_flags = read_cpu_flags() or frozenset()
    found = [flag for flag in BFLOAT16_CPU_FLAGS if flag in cpu_flags]
    if found:
        return True, f"the CPU has {', '.join(found)}"
    return False, "the CPU has no AVX512-BF16 or AMX-BF16 (or does not list its flags)"


def resolve_precision(name, gpu=None, cpu_flags=None):
    """The dtype policy to train with for `train.mixed_precision = name`.

    Args:
        name: one of `PRECISIONS`.
        gpu: whether a GPU is available (None: ask the backend).
        cpu_flags: the CPU's feature flags, for "mixed_bfloat16_if_native" (None: read them).

    Raises:
        ValueError: an unknown name.
    """
    if name not in PRECISIONS:
        raise ValueError(f"Received `mixed_precision='{name}'`, expected one of {', '.join(PRECISIONS)}.")
    if name == "mixed_float16" and not (has_gpu() if gpu is None else gpu):
        note = "mixed_float16 requested, but there is no GPU: float16 on CPU is emulated and slow"
        logger.warning("train.mixed_precision='mixed_float16' needs a GPU and none was found: "
                       "training in float32 instead (use 'mixed_bfloat16' for lower precision "
                       "on CPU).")
        return Precision("float32", name, note)
    if name == "mixed_bfloat16_if_native":
        native, why = native_bfloat16(gpu, cpu_flags)
        policy = "mixed_bfloat16" if native else "float32"
        logger.info("train.mixed_precision = 'mixed_bfloat16_if_native': training in %s (%s).", policy, why)
        return Precision(policy, name, why)
    return Precision(name, name)


@contextlib.contextmanager
def dtype_policy(precision):
    """Builds models under `precision.policy`; restores the previous global policy after."""
    import keras

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(precision.policy)
    try:
        yield precision
    finally:
        keras.config.set_dtype_policy(previous)


def compile_options(train):
    """`model.compile` keyword arguments from the `[train]` section."""
    jit = train["jit_compile"]
    # "fastest" compiles with Keras' rule; `choose_jit_compile` then times both before training
    return {"jit_compile": "auto" if jit == "fastest" else jit,
            "steps_per_execution": train["steps_per_execution"]}


def fastest_jit_compile(model, batch, *, steps=4, timer=None):
    """Whether XLA makes `model`'s training step faster here: times `steps` training steps of a
    copy of the model (fresh weights, the same loss and optimiser type) on `batch`, without and
    with XLA, after one warm-up step each (the compile). The model itself is not trained.

    On a CPU the answer depends on the machine: XLA trained the DeepCell project 1.74x faster
    on an AVX2 CPU and 1.8x slower on an AVX-512 one, where TensorFlow's own (oneDNN) kernels
    are faster (README Performance).

    Args:
        model: a compiled Keras model.
        batch: one training batch, (x, y) or (x, y, sample_weight).
        steps: timed steps per mode (the fastest counts: the first steps after a compile can
            still be warming up).
        timer: a function () -> seconds (default `time.perf_counter`; tests pass a fake).

    Returns:
        (jit_compile, {False: seconds per step, True: seconds per step}); XLA only when its
        step is at least 5 % faster (its compile costs time and a model may not compile).
        (None, {}) when the model cannot be copied: keep the model's own setting.
    """
    import time

    import keras

    timer = timer or time.perf_counter
    try:
        copy = keras.models.clone_model(model)
    except Exception as exc:  # e.g. a subclassed model
        logger.info("jit_compile = 'fastest': cannot copy this model to time it (%s); keeping "
                    "jit_compile = %s.", exc, model.jit_compile)
        return None, {}
    x, y, *weights = batch
    seconds = {}
    for jit in (False, True):
        try:
            optimizer = type(model.optimizer).from_config(model.optimizer.get_config())
        except Exception:  # an optimiser that cannot be rebuilt from its config
            optimizer = "adam"
        copy.compile(optimizer=optimizer, loss=model.loss, jit_compile=jit)
        try:
            copy.train_on_batch(x, y, sample_weight=weights[0] if weights else None)
        except Exception as exc:  # XLA cannot compile some layers
            logger.info("jit_compile = 'fastest': the training step failed with jit_compile = "
                        "%s (%s).", jit, str(exc).splitlines()[0][:200])
            seconds[jit] = float("inf")
            continue
        times = []
        for _ in range(steps):
            start = timer()
            copy.train_on_batch(x, y, sample_weight=weights[0] if weights else None)
            times.append(timer() - start)
        seconds[jit] = float(min(times))
    return seconds[True] < 0.95 * seconds[False], seconds


def choose_jit_compile(train, model, batch, *, distributed=False, earlier=None):
    """Applies `train.jit_compile = "fastest"` to a compiled model before training: on the
    TensorFlow backend on one device, the faster of XLA on and off (`fastest_jit_compile`);
    elsewhere Keras' `auto` rule, which the model was compiled with. `earlier`: the choice a
    resumed run made when it started (its `run.json`), kept without timing again, so that a
    run continues as it began. Returns what to record in the run's status (empty for the
    other settings)."""
    import keras

    if train["jit_compile"] != "fastest":
        return {}
    if earlier is not None:
        model.jit_compile = bool(earlier)
        model.train_function = None
        logger.info("Resumed run: training %s XLA, as it started (train.jit_compile = "
                    "'fastest').", "with" if earlier else "without")
        return {}
    if keras.backend.backend() != "tensorflow" or distributed:
        logger.info("jit_compile = 'fastest' measures on the TensorFlow backend on one device "
                    "only; here Keras' 'auto' rule decides: XLA %s.",
                    "on" if model.jit_compile else "off")
        return {"jit_compile": bool(model.jit_compile), "jit_compile_rule": "auto"}
    jit, seconds = fastest_jit_compile(model, batch)
    if jit is None:
        return {"jit_compile": bool(model.jit_compile), "jit_compile_rule": "auto"}
    model.jit_compile = jit
    model.train_function = None  # built again with the chosen setting
    logger.info("Training step timed on this machine: %.3f s without XLA, %.3f s with it: "
                "training %s XLA (train.jit_compile = 'fastest').", seconds[False],
                seconds[True], "with" if jit else "without")
    return {"jit_compile": bool(jit), "jit_compile_rule": "fastest",
            "step_seconds": {"no_xla": round(seconds[False], 4), "xla": round(seconds[True], 4)}}
