"""The augmentation registry and the base classes of paired transforms.

A transform draws its random parameters once per sample (`draw`) and the augmentor applies
the same draw to the image, the mask and the weight map. Geometric transforms contribute to
one composed coordinate map; photometric transforms change the image only.
"""

import numpy as np

from dl_suite.registry import Registry

AUGMENTATIONS = Registry("augmentation")


def check_probability(name, p):
    """Validates an operation probability; raises ValueError saying how to fix it."""
    if not isinstance(p, (int, float)) or isinstance(p, bool) or not 0.0 <= float(p) <= 1.0:
        raise ValueError(
            f"Received `{name}_prob={p!r}`, expected a number between 0 and 1 (the chance that "
            f"'{name}' is applied to a sample). To fix, set `{name}_prob` in [augmentor] to "
            "e.g. 0.5."
        )
    return float(p)


def as_choices(name, values, *, positive=False):
    """Returns `values` (a number or a list of numbers) as a non-empty float array."""
    array = np.atleast_1d(np.asarray(values, dtype=object))
    try:
        array = array.astype(np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"Received `{name}={values!r}`, expected a number or a list of numbers "
            f"such as [0.8, 0.9]. To fix, correct `{name}` in your config."
        ) from None
    if array.size == 0:
        raise ValueError(f"Received an empty list for `{name}`; give at least one value.")
    if positive and np.any(array <= 0):
        raise ValueError(f"Received `{name}={values!r}`; every value must be > 0.")
    return array


def as_range(name, values, *, low=None):
    """Returns a (lo, hi) pair from a number r (-> (-r, r)) or a two-element list."""
    array = np.atleast_1d(np.asarray(values, dtype=np.float64))
    if array.size == 1:
        lo, hi = (-abs(array[0]), abs(array[0])) if low is None else (low, array[0])
    elif array.size == 2:
        lo, hi = float(array[0]), float(array[1])
    else:
        raise ValueError(
            f"Received `{name}={values!r}`, expected one number or a list [low, high]."
        )
    if lo > hi:
        raise ValueError(f"Received `{name}={values!r}`: low must not exceed high; swap them.")
    return float(min(lo, hi)), float(max(lo, hi))


class Transform:
    """A random transform applied with probability `p`.

    Subclasses implement `draw(rng, shape)`, returning the sample's parameters (or None to skip).
    """

    kind = "photometric"

    def __init__(self, p=0.5):
        self.p = check_probability(self.name, p)

    @property
    def name(self):
        return getattr(type(self), "config_name", type(self).__name__.lower())

    def maybe_draw(self, rng, shape):
        """Draws the decision and, if applied, the parameters for one sample."""
        if self.p <= 0.0 or rng.random() >= self.p:
            return None
        return self.draw(rng, shape)

    def draw(self, rng, shape):  # pragma: no cover - abstract
        raise NotImplementedError

    def get_config(self):
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def register(name, *, aliases=()):
    """Registers a Transform class under its config name."""

    def decorator(cls):
        cls.config_name = name
        return AUGMENTATIONS.register(name, aliases=aliases)(cls)

    return decorator
