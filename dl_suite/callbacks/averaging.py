"""Weight averaging (`train.ema_momentum`): validation, checkpoints and previews see the
exponential moving average of the weights; training and the resume state keep the raw ones.

The optimiser keeps the average (`use_ema=True`). `AveragedWeightsIn` swaps it into the model
for each validation pass and at the end of each epoch, before the checkpoints and previews;
`AveragedWeightsOut` swaps the raw weights back before the resume state is saved, so an
interrupted run continues from exactly what it was training. At the end of `fit` Keras leaves
the average in the model (`Optimizer.finalize_variable_values`).
"""

import keras


class AveragedWeightsIn(keras.callbacks.SwapEMAWeights):
    """Puts the averaged weights in the model for validation and for the epoch-end callbacks
    that follow it (checkpoints, previews); pair it with `AveragedWeightsOut`. Uses the swap
    and the flag of Keras' `SwapEMAWeights` (private names, Keras 3.x)."""

    def __init__(self):
        super().__init__(swap_on_epoch=False)

    def on_epoch_end(self, epoch, logs=None):
        if not self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = True

    def swap_back(self):
        """Puts the raw (training) weights back, when the averaged ones are in the model."""
        if self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = False


class AveragedWeightsOut(keras.callbacks.Callback):
    """Puts the raw weights back after the epoch-end callbacks that wanted the average;
    placed before `ResumableState`, which must save the training weights."""

    def __init__(self, swap_in):
        super().__init__()
        self.swap_in = swap_in

    def on_epoch_end(self, epoch, logs=None):
        self.swap_in.swap_back()


def averaged_weights_callbacks():
    """The (first, last) pair of callbacks to wrap the epoch-end callbacks that see the average."""
    swap_in = AveragedWeightsIn()
    return swap_in, AveragedWeightsOut(swap_in)
