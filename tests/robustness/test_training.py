"""Robust training: batches get a noisy or PGD copy; the train workflow uses it from config."""

import keras
import numpy as np
import pytest

from dl_suite.errors import UserError
from dl_suite.robustness.training import (
    RobustCopies,
    gaussian_noise_perturbation,
    pgd_perturbation,
)
from tests.robustness.test_attacks import fixed_problem, tiny_model


class _Batches:
    def __init__(self, x, y):
        self.x, self.y, self.epochs = x, y, 0

    def __len__(self):
        return 1

    def __getitem__(self, index):
        return self.x, self.y

    def on_epoch_end(self):
        self.epochs += 1


def test_noisy_copies_double_the_batch_with_sigma_in_range():
    x = np.zeros((64, 16, 16, 1), np.float32)
    y = np.ones((64, 16, 16, 1), np.float32)
    data = RobustCopies(_Batches(x, y), gaussian_noise_perturbation([2, 7]), seed=1)
    bx, by = data[0]
    assert bx.shape == (128, 16, 16, 1) and by.shape == (128, 16, 16, 1)
    np.testing.assert_array_equal(bx[:64], x)
    sigmas = bx[64:].reshape(64, -1).std(axis=1) * 255
    assert sigmas.min() > 2 * 0.85 and sigmas.max() < 7 * 1.15 and sigmas.std() > 0.5  # drawn per image
    data.on_epoch_end()
    assert data.dataset.epochs == 1 and not np.array_equal(data[0][0], bx)  # a new draw each epoch


def test_pgd_copies_stay_in_the_ball_and_raise_the_loss():
    from dl_suite.robustness.attacks import gradient_function

    weights, x, y = fixed_problem()
    model = tiny_model()
    model.set_weights(weights)
    # targets with an extra weight-map channel, as the training dataset yields them
    y_weighted = np.concatenate([y, np.full_like(y, 3.0)], axis=-1)
    data = RobustCopies(_Batches(x, y_weighted), pgd_perturbation(model, 8, 2, 5))
    bx, by = data[0]
    adversarial = bx[len(x):]
    assert np.abs(adversarial - x).max() <= 8 / 255 + 1e-6
    grad = gradient_function(model)
    assert grad(adversarial, y)[0] > grad(x, y)[0] + 1e-3
    np.testing.assert_array_equal(by, np.concatenate([y_weighted, y_weighted]))


def test_train_uses_the_robust_training_option(tmp_path, monkeypatch):
    from dl_suite.config import load_config
    from dl_suite.robustness import training
    from dl_suite.workflows.demo import make_demo_data
    from dl_suite.workflows.train import train
    from tests.workflows.conftest import CONFIG, TINY

    make_demo_data(tmp_path / "data", num_train=4, num_test=1, size=32)
    (tmp_path / "p.config").write_text(CONFIG)
    cfg = load_config(tmp_path / "p.config", TINY + ["train.steps_per_epoch=1", "robustness.training=\"pgd\"",
                                                     "robustness.train_iterations=2"])
    used, original = [], training.robust_training_dataset
    monkeypatch.setattr(training, "robust_training_dataset", lambda *a, **k: used.append(original(*a, **k)) or used[-1])
    if keras.backend.backend() != "tensorflow":  # PGD training is TensorFlow-only: a clear error
        with pytest.raises(UserError, match="needs the TensorFlow backend"):
            train(cfg)
        return
    run = train(cfg)
    assert (run / "model.keras").is_file() and (run / "history.csv").is_file()
    assert isinstance(used[0], RobustCopies) and used[0][0][0].shape[0] == 2 * cfg["train"]["batch_size"]
