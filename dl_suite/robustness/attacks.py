"""Adversarial attacks on segmentation models: FGSM, I-FGSM, PGD (L-infinity and L2).

The attacks maximise the pixel-wise cross-entropy between the model's probabilities and the
true mask. They are numpy loops around one backend-specific function, `gradient_function`,
implemented for TensorFlow and JAX (dispatch on `keras.backend.backend()`).

Budgets are in model-input units, one per image (shape (B,)): the caller converts grey levels
through the run's normalisation (`dl_suite.robustness.budget`). For L2 attacks a budget `eps`
means a ball of radius eps * sqrt(number of values per image), so the L2 and L-infinity balls
of one budget have the same root-mean-square perturbation at their largest.
"""

import numpy as np

from dl_suite.registry import Registry

ATTACKS = Registry("attack")


def pixel_loss(probs, target):
    """Mean pixel-wise cross-entropy (binary for one channel, categorical for several)."""
    from keras import ops

    probs = ops.clip(probs, 1e-7, 1.0 - 1e-7)
    if probs.shape[-1] == 1:
        return -ops.mean(target * ops.log(probs) + (1.0 - target) * ops.log(1.0 - probs))
    return -ops.mean(ops.sum(target * ops.log(probs), axis=-1))


def _main_output(outputs):
    return outputs[0] if isinstance(outputs, (list, tuple)) else outputs


def _tensorflow_gradient(model):
    import tensorflow as tf

    @tf.function(reduce_retracing=True)
    def step(x, y):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = pixel_loss(_main_output(model(x, training=False)), y)
        return loss, tape.gradient(loss, x)

    def call(x, y):
        loss, grad = step(tf.convert_to_tensor(x, tf.float32), tf.convert_to_tensor(y, tf.float32))
        return float(loss), grad.numpy()

    return call


def _jax_gradient(model):
    import jax
    import jax.numpy as jnp

    def loss_of(trainable, non_trainable, x, y):
        outputs, _ = model.stateless_call(trainable, non_trainable, x, training=False)
        return pixel_loss(_main_output(outputs), y)

    step = jax.jit(jax.value_and_grad(loss_of, argnums=2))

    def call(x, y):
        # the variables' current values on every call (weights may change between calls)
        trainable = [v.value for v in model.trainable_variables]
        non_trainable = [v.value for v in model.non_trainable_variables]
        loss, grad = step(trainable, non_trainable, jnp.asarray(x, jnp.float32), jnp.asarray(y, jnp.float32))
        return float(loss), np.asarray(grad)

    return call


_BACKENDS = {"tensorflow": _tensorflow_gradient, "jax": _jax_gradient}


def gradient_function(model):
    """`call(x, y) -> (mean loss, d loss / d x)` for the current Keras backend.

    Args:
        model: a Keras model returning probabilities (sigmoid or softmax).

    Returns:
        callable taking float32 numpy batches x (B, H, W, C) and y (B, H, W, K).

    Raises:
        NotImplementedError: a backend other than TensorFlow or JAX.
    """
    import keras

    backend = keras.backend.backend()
    if backend not in _BACKENDS:
        raise NotImplementedError(f"Attacks need gradients; backend '{backend}' is not supported "
                                  f"(use KERAS_BACKEND={' or '.join(_BACKENDS)}).")
    return _BACKENDS[backend](model)


def _per_image(values, ndim):
    return np.asarray(values, np.float32).reshape((-1,) + (1,) * (ndim - 1))


def _l2_normalise(array):
    norms = np.sqrt((array.reshape(len(array), -1) ** 2).sum(axis=1))
    return array / _per_image(np.maximum(norms, 1e-12), array.ndim)


def _project_l2(delta, radius):
    norms = np.sqrt((delta.reshape(len(delta), -1) ** 2).sum(axis=1))
    factor = np.minimum(1.0, radius / np.maximum(norms, 1e-12))
    return delta * _per_image(factor, delta.ndim)


def _iterate(grad, x, y, eps, step, iterations, delta, norm):
    eps, step = _per_image(eps, x.ndim), _per_image(step, x.ndim)
    radius = eps[:, 0, 0, 0] * np.sqrt(x[0].size)
    for _ in range(iterations):
        _, g = grad(x + delta, y)
        if norm == "linf":
            delta = np.clip(delta + step * np.sign(g), -eps, eps)
        else:
            delta = _project_l2(delta + step * np.sqrt(x[0].size) * _l2_normalise(g), radius)
    return (x + delta).astype(np.float32)


@ATTACKS.register("fgsm")
def fgsm(grad, x, y, eps, **_):
    """Fast gradient sign method: one step of size eps along the gradient's sign."""
    _, g = grad(x, y)
    return (x + _per_image(eps, x.ndim) * np.sign(g)).astype(np.float32)


@ATTACKS.register("ifgsm")
def ifgsm(grad, x, y, eps, *, step, iterations=10, **_):
    """Iterative FGSM (BIM): sign steps of `step`, clipped to the eps ball, from x itself."""
    return _iterate(grad, x, y, eps, step, iterations, np.zeros_like(x), "linf")


@ATTACKS.register("pgd_linf")
def pgd_linf(grad, x, y, eps, *, step, iterations=10, random_start=True, seed=0, **_):
    """PGD in the L-infinity ball: like I-FGSM from a uniform random start in the ball."""
    eps_b = _per_image(eps, x.ndim)
    start = np.random.default_rng(seed).uniform(-1, 1, x.shape) * eps_b if random_start else np.zeros_like(x)
    return _iterate(grad, x, y, eps, step, iterations, start.astype(np.float32), "linf")


@ATTACKS.register("pgd_l2")
def pgd_l2(grad, x, y, eps, *, step, iterations=10, random_start=True, seed=0, **_):
    """PGD in the L2 ball of radius eps * sqrt(values per image), normalised-gradient steps."""
    radius = np.asarray(eps, np.float32) * np.sqrt(x[0].size)
    start = np.zeros_like(x)
    if random_start:
        rng = np.random.default_rng(seed)
        direction = _l2_normalise(rng.normal(size=x.shape))
        scale = radius * rng.uniform(size=len(x)) ** (1.0 / x[0].size)
        start = (direction * _per_image(scale, x.ndim)).astype(np.float32)
    return _iterate(grad, x, y, eps, step, iterations, start, "l2")


def attack(name, model_or_grad, x, y, eps, *, step=None, iterations=10, random_start=True, seed=0):
    """Runs attack `name` on a batch.

    Args:
        name: a key of `ATTACKS`.
        model_or_grad: a Keras model or a `gradient_function` result (reused across calls).
        x: float32 (B, H, W, C) model inputs; y: (B, H, W, K) targets (0/1 or one-hot).
        eps, step: budgets and step sizes in input units, scalars or one per image.
        iterations, random_start, seed: of the iterative attacks.

    Returns:
        float32 adversarial batch like x.
    """
    grad = model_or_grad if callable(model_or_grad) and not hasattr(model_or_grad, "layers") else gradient_function(model_or_grad)
    x = np.asarray(x, np.float32)
    y = np.asarray(y, np.float32)
    eps = np.broadcast_to(np.asarray(eps, np.float32), (len(x),))
    step = eps / 4 if step is None else np.broadcast_to(np.asarray(step, np.float32), (len(x),))
    return ATTACKS.get(name)(grad, x, y, eps, step=step, iterations=iterations,
                             random_start=random_start, seed=seed)
