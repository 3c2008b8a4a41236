"""Model tests run on the backend named by KERAS_BACKEND (tensorflow by default).

Run them on JAX too with: KERAS_BACKEND=jax python3 -m pytest -q tests/models
"""

import os

import keras
import numpy as np
import pytest

# Models that cannot run on a backend: {backend: {model: reason}}. None so far.
UNSUPPORTED = {}

# Under JAX these take 1-1.5 min each on 2 busy cores (XLA compiles of large graphs) and use
# only built-in Keras layers / keras.applications, so the default JAX run leaves them to
# `-m slow`; every model with a dl_suite custom layer stays in the default JAX run.
JAX_SLOW = ("efficient_unet", "efficientnetb7_unet", "mobilenet_mobileunet",
            "mobilenet_mobileunet_lstm", "u2net", "xception_unet")


@pytest.fixture(autouse=True)
def _clear_session():
    keras.utils.set_random_seed(0)
    yield
    keras.backend.clear_session()


def backend():
    return keras.backend.backend()


def random_input(shape, batch=1, seed=0):
    return np.random.default_rng(seed).random((batch, *shape), dtype=np.float32)


def skip_if_unsupported(name):
    reason = UNSUPPORTED.get(backend(), {}).get(name)
    if reason:
        pytest.skip(f"{name} on {backend()}: {reason}")


os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def pytest_collection_modifyitems(config, items):
    """Marks the heaviest models slow on JAX."""
    jax = keras.backend.backend() == "jax"
    for item in items:
        param = getattr(item, "callspec", None) and item.callspec.params.get("name")
        if jax and item.nodeid.startswith("tests/models/test_zoo.py") and param in JAX_SLOW:
            item.add_marker(pytest.mark.slow)
        if jax and item.nodeid.startswith("tests/models/test_legacy_configs.py"):
            # config -> model mapping does not depend on the backend (checked on TensorFlow,
            # where tests/config also trains each legacy config one step); every model is
            # still built and trained on JAX by test_zoo.
            item.add_marker(pytest.mark.slow)
    # the skip of slow tests unless `-m slow` is in tests/conftest.py (all folders)
