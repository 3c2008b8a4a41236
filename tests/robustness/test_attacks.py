"""Attacks: raise the loss, stay in the epsilon ball, agree between TensorFlow and JAX."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dl_suite.robustness.attacks import ATTACKS, attack, gradient_function

REPO = Path(__file__).resolve().parents[2]
EPS = 0.1


def tiny_model():
    """3x3 conv (4 filters, relu) -> 1x1 conv (sigmoid), 8x8 inputs; weights set by the caller."""
    import keras

    inputs = keras.Input((8, 8, 1))
    hidden = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="c1")(inputs)
    return keras.Model(inputs, keras.layers.Conv2D(1, 1, activation="sigmoid", name="c2")(hidden))


def fixed_problem():
    """Weights, inputs and targets from a seeded numpy RNG (the same on every backend)."""
    rng = np.random.default_rng(0)
    weights = [rng.normal(0, 0.5, (3, 3, 1, 4)), rng.normal(0, 0.1, 4), rng.normal(0, 0.5, (1, 1, 4, 1)),
               rng.normal(0, 0.1, 1)]
    x = rng.uniform(0, 1, (2, 8, 8, 1))
    y = (rng.uniform(0, 1, (2, 8, 8, 1)) > 0.5)
    return [w.astype(np.float32) for w in weights], x.astype(np.float32), y.astype(np.float32)


def backend_results():
    """Gradient and every attack's output on the fixed problem, with this process's backend."""
    weights, x, y = fixed_problem()
    model = tiny_model()
    model.set_weights(weights)
    grad = gradient_function(model)
    loss, g = grad(x, y)
    out = {"loss": loss, "grad": g}
    for name in ATTACKS.names():
        out[name] = attack(name, grad, x, y, EPS, step=0.02, iterations=5, seed=3)
    return out


@pytest.fixture(scope="module")
def results():
    return backend_results()


@pytest.mark.parametrize("name", ["fgsm", "ifgsm", "pgd_linf", "pgd_l2"])
def test_attack_raises_loss_and_respects_the_ball(results, name):
    weights, x, y = fixed_problem()
    model = tiny_model()
    model.set_weights(weights)
    grad = gradient_function(model)
    adv = results[name]
    assert grad(adv, y)[0] > results["loss"] + 1e-3
    delta = (adv - x).reshape(len(x), -1)
    if name == "pgd_l2":
        assert np.all(np.linalg.norm(delta, axis=1) <= EPS * np.sqrt(x[0].size) * (1 + 1e-5))
    else:
        assert np.abs(delta).max() <= EPS + 1e-6
    if name == "fgsm":  # FGSM moves every pixel with a nonzero gradient by exactly eps
        moved = np.abs(results["grad"]) > 0
        np.testing.assert_allclose(np.abs(adv - x)[moved], EPS, rtol=1e-5)


def test_per_image_budgets():
    weights, x, y = fixed_problem()
    model = tiny_model()
    model.set_weights(weights)
    adv = attack("fgsm", model, x, y, [0.05, 0.2])
    assert np.abs(adv[0] - x[0]).max() == pytest.approx(0.05) and np.abs(adv[1] - x[1]).max() == pytest.approx(0.2)


def test_tensorflow_and_jax_agree(results, tmp_path):
    """The other backend, in a subprocess, on the same weights and inputs.

    Tolerances: gradients within 1e-5 of their largest magnitude (float32 reductions differ);
    attack outputs within 1e-5 on at least 99 % of the values (a sign can flip where the
    gradient is ~0).
    """
    import keras

    other = "jax" if keras.backend.backend() == "tensorflow" else "tensorflow"
    script = (
        "import numpy as np; from tests.robustness.test_attacks import backend_results; "
        f"np.savez(r'{tmp_path / 'other.npz'}', **backend_results())"
    )
    env = dict(os.environ, KERAS_BACKEND=other, PYTHONPATH=str(REPO), TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run([sys.executable, "-c", script], check=False, cwd=REPO, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    theirs = np.load(tmp_path / "other.npz")
    assert float(theirs["loss"]) == pytest.approx(results["loss"], rel=1e-5)
    scale = np.abs(results["grad"]).max()
    np.testing.assert_allclose(theirs["grad"], results["grad"], atol=1e-5 * scale, rtol=0)
    for name in ATTACKS.names():
        close = np.isclose(theirs[name], results[name], atol=1e-5, rtol=0)
        assert close.mean() >= 0.99, (name, close.mean())
