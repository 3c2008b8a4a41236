"""Layers that move the time axis of (B, T, H, W, C) videos in and out of the batch axis."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="dl_suite")
class FoldTime(keras.layers.Layer):
    """(B, T, H, W, C) -> (B*T, H, W, C), so 2D layers process every frame."""

    def call(self, inputs):
        shape = ops.shape(inputs)
        return ops.reshape(inputs, (-1, *shape[2:]))

    def compute_output_shape(self, input_shape):
        batch = None if input_shape[0] is None or input_shape[1] is None else (
            input_shape[0] * input_shape[1])
        return (batch, *input_shape[2:])


@keras.saving.register_keras_serializable(package="dl_suite")
class UnfoldTime(keras.layers.Layer):
    """(B*T, H, W, C) -> (B, T, H, W, C).

    Args:
        time_steps: T, the number of frames per sample.
    """

    def __init__(self, time_steps, **kwargs):
        super().__init__(**kwargs)
        self.time_steps = int(time_steps)

    def call(self, inputs):
        shape = ops.shape(inputs)
        return ops.reshape(inputs, (-1, self.time_steps, *shape[1:]))

    def compute_output_shape(self, input_shape):
        batch = None if input_shape[0] is None else input_shape[0] // self.time_steps
        return (batch, self.time_steps, *input_shape[1:])

    def get_config(self):
        return {**super().get_config(), "time_steps": self.time_steps}


@keras.saving.register_keras_serializable(package="dl_suite")
class SelectFrame(keras.layers.Layer):
    """(B, T, ...) -> (B, ...): one frame of a sequence (default the last one).

    Args:
        index: the frame to keep; negative counts from the end.
    """

    def __init__(self, index=-1, **kwargs):
        super().__init__(**kwargs)
        self.index = int(index)

    def call(self, inputs):
        return ops.take(inputs, self.index if self.index >= 0 else inputs.shape[1] + self.index,
                        axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *input_shape[2:])

    def get_config(self):
        return {**super().get_config(), "index": self.index}
