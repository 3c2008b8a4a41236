"""Robust training: every batch also gets a noisy or an adversarial copy of its images.

The copy is appended to the batch (targets repeated), so the batch loss, a mean over its
samples, is exactly the mean of the clean and the perturbed losses. Working on batches (a
PyDataset wrapper) keeps this independent of the Keras backend.

Budgets are in grey levels of 255 of the *normalised* intensity range [0, 1], i.e. a level of
7 is 7/255 in model-input units (training sees normalised patches only). This equals the raw
dynamic range for `div255` on 8-bit data and for `minmax`; with `percentile` normalisation
(the p_low..p_high percentiles mapped to 0..1) it is a fraction of that percentile range, so it
differs from the attacks' budgets, which `budget.py` converts from raw grey levels per image
(e.g. a training epsilon of 8 was 6.1-7.7 raw grey levels on the synthetic nuclei).

- `gaussian_noise`: additive noise, sigma drawn per image uniformly from `noise_sigma_range`.
- `pgd`: PGD (L-infinity, random start) against the model being trained, `train_epsilon`,
  `train_step`, `train_iterations`. TensorFlow backend only: during `fit` the JAX backend keeps
  the weights outside the model's variables, where a data pipeline cannot reach them.
"""

import keras
import numpy as np


class RobustCopies(keras.utils.PyDataset):
    """Wraps a PyDataset of (x, y) batches: yields (concat(x, perturbed x), concat(y, y)).

    Args:
        dataset: the training PyDataset.
        perturb: callable(x, y, rng) -> perturbed x.
        seed: seed of the per-batch random draws (changes with the epoch).
    """

    def __init__(self, dataset, perturb, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.dataset = dataset
        self.perturb = perturb
        self.seed = seed
        self.epoch = 0

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, index):
        x, y = self.dataset[index]
        epoch = getattr(self.dataset, "epoch", self.epoch)  # the dataset's (set on resume)
        rng = np.random.default_rng((self.seed, epoch, int(index)))
        copy = np.asarray(self.perturb(x, y, rng), np.float32)
        return np.concatenate([x, copy]), np.concatenate([y, y])

    def on_epoch_end(self):
        self.epoch += 1
        self.dataset.on_epoch_end()


def gaussian_noise_perturbation(sigma_range):
    """x + N(0, sigma), sigma ~ U(sigma_range) grey levels / 255, one sigma per image."""
    low, high = (float(v) / 255.0 for v in sigma_range)

    def perturb(x, y, rng):
        sigma = rng.uniform(low, high, len(x)).reshape((-1,) + (1,) * (x.ndim - 1))
        return x + rng.normal(size=x.shape) * sigma

    return perturb


def pgd_perturbation(model, epsilon, step, iterations):
    """PGD L-infinity copies against `model` (its first output; targets cut to its channels)."""
    from dl_suite.robustness.attacks import attack, gradient_function

    grad = gradient_function(model)  # reads the model's current weights on every call
    channels = int(model.outputs[0].shape[-1])

    def perturb(x, y, rng):
        target = np.asarray(y, np.float32)[..., :channels]
        return attack("pgd_linf", grad, x, target, epsilon / 255.0, step=step / 255.0,
                      iterations=iterations, random_start=True, seed=int(rng.integers(2**31)))

    return perturb


def robust_training_dataset(section, dataset, model, seed=0):
    """The training dataset for `[robustness] training` ("none" returns it unchanged)."""
    kind = section["training"]
    if kind == "none" or dataset is None:
        return dataset
    if kind == "gaussian_noise":
        perturb = gaussian_noise_perturbation(section["noise_sigma_range"])
    else:
        if keras.backend.backend() != "tensorflow":
            from dl_suite.errors import UserError

            raise UserError(
                f"[robustness] training = \"pgd\" needs the TensorFlow backend; received "
                f"KERAS_BACKEND={keras.backend.backend()}. Train with KERAS_BACKEND=tensorflow, or "
                "use training = \"gaussian_noise\"."
            )
        perturb = pgd_perturbation(model, section["train_epsilon"], section["train_step"],
                                   section["train_iterations"])
    return RobustCopies(dataset, perturb, seed=seed)
