"""Numeric precision and compilation of training (`[train] mixed_precision`, `jit_compile`,
`steps_per_execution`).

Mixed precision computes in float16 / bfloat16 and keeps the weights in float32; every model's
output activation is float32 (`models.blocks.output_head`), so losses, metrics and saved
probability maps stay float32. Under `mixed_float16` Keras wraps the optimiser in a
`LossScaleOptimizer` (dynamic loss scaling) by itself when the model is compiled.

`mixed_float16` needs a GPU: on a machine without one (float16 on CPU is emulated and slower
than float32) training falls back to float32, says so in the log and records it in `run.json`
(`precision`). `mixed_bfloat16` runs anywhere; on CPUs without AMX / AVX512-BF16 it is usually
slower than float32 (see the README's performance section).
"""

import contextlib
import logging
from dataclasses import dataclass

logger = logging.getLogger(__name__)

PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")


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


def resolve_precision(name, gpu=None):
    """The dtype policy to train with for `train.mixed_precision = name`.

    Args:
        name: one of `PRECISIONS`.
        gpu: whether a GPU is available (None: ask the backend).

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
    return {"jit_compile": train["jit_compile"], "steps_per_execution": train["steps_per_execution"]}
