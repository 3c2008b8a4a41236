"""Test-time augmentation: predict flipped/rotated tiles, undo the transform, average."""

import numpy as np

from dl_suite.registry import Registry

TTA_MODES = Registry("test-time augmentation")


def _flip(rows, cols):
    def forward(batch):
        if rows:
            batch = batch[:, ::-1]
        if cols:
            batch = batch[:, :, ::-1]
        return batch

    return forward, forward  # a flip is its own inverse


def _dihedral(k, transpose):
    def forward(batch):
        if transpose:
            batch = batch.transpose(0, 2, 1, 3)
        return np.rot90(batch, k, axes=(1, 2))

    def inverse(batch):
        batch = np.rot90(batch, -k, axes=(1, 2))
        if transpose:
            batch = batch.transpose(0, 2, 1, 3)
        return batch

    return forward, inverse


@TTA_MODES.register("none")
def no_tta():
    """Only the identity."""
    return [_flip(False, False)]


@TTA_MODES.register("flips")
def flips_tta():
    """The 4 flips: identity, vertical, horizontal, both."""
    return [_flip(r, c) for r in (False, True) for c in (False, True)]


@TTA_MODES.register("dihedral")
def dihedral_tta():
    """The 8 rotations and reflections of the square (tiles may become (w, h))."""
    return [_dihedral(k, t) for t in (False, True) for k in range(4)]


def tta_predictor(predictor, mode="none"):
    """Wraps a batch predictor so it averages the predictions over the `mode` transforms.

    Args:
        predictor: callable float32 (N, h, w, C) -> (N, h, w, K).
        mode: a key of `TTA_MODES`.

    Returns:
        A callable with the same signature.
    """
    transforms = TTA_MODES.get(mode)()
    if len(transforms) == 1:
        return predictor

    def predict(batch):
        total = None
        for forward, inverse in transforms:
            pred = inverse(np.asarray(predictor(np.ascontiguousarray(forward(batch)))))
            pred = pred.astype(np.float64)
            total = pred if total is None else total + pred
        return (total / len(transforms)).astype(np.float32)

    return predict
