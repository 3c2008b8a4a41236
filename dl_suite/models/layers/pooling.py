"""Pooling layers: adaptive average pooling (PSPNet, ICNet) and max-unpooling (SegNet)."""

import math

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="dl_suite")
class AdaptiveAveragePooling2D(keras.layers.Layer):
    """Average-pools (B, H, W, C) to (B, bins, bins, C) for any static H, W.

    Bin edges follow PyTorch's adaptive pooling (floor start, ceil end), so bins may overlap
    when H is not a multiple of `bins`; this is why PSPNet takes any input size.

    Args:
        bins: output height and width.
    """

    def __init__(self, bins, **kwargs):
        super().__init__(**kwargs)
        self.bins = int(bins)

    def call(self, inputs):
        height, width = inputs.shape[1], inputs.shape[2]
        rows = []
        for i in range(self.bins):
            h0, h1 = (i * height) // self.bins, math.ceil((i + 1) * height / self.bins)
            cols = []
            for j in range(self.bins):
                w0, w1 = (j * width) // self.bins, math.ceil((j + 1) * width / self.bins)
                cols.append(ops.mean(inputs[:, h0:h1, w0:w1, :], axis=(1, 2), keepdims=True))
            rows.append(ops.concatenate(cols, axis=2))
        return ops.concatenate(rows, axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.bins, self.bins, input_shape[3])

    def get_config(self):
        return {**super().get_config(), "bins": self.bins}


@keras.saving.register_keras_serializable(package="dl_suite")
class MaxUnpooling2D(keras.layers.Layer):
    """SegNet max-unpooling: places values at the positions the 2x2 max-pooling chose.

    Inputs are `[values, before_pool]`: the (B, h, w, C) tensor to unpool and the
    (B, 2h, 2w, C) encoder tensor that was pooled. The positions are recovered as the argmax
    of each 2x2 window of `before_pool` (the first one on ties, like stored pooling
    indices), so no integer indices need to be carried between encoder and decoder.
    """

    def call(self, inputs):
        values, before = inputs
        h, w, c = before.shape[1] // 2, before.shape[2] // 2, before.shape[3]
        # (B, h, 2, w, 2, C) -> (B, h, w, 4, C): the four candidates of each window
        win = ops.reshape(before, (-1, h, 2, w, 2, c))
        win = ops.reshape(ops.transpose(win, (0, 1, 3, 2, 4, 5)), (-1, h, w, 4, c))
        first = ops.one_hot(ops.argmax(win, axis=3), 4, axis=3, dtype=values.dtype)
        out = first * ops.expand_dims(values, 3)
        out = ops.transpose(ops.reshape(out, (-1, h, w, 2, 2, c)), (0, 1, 3, 2, 4, 5))
        return ops.reshape(out, (-1, 2 * h, 2 * w, c))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[1][:3]) + (input_shape[0][3],)
