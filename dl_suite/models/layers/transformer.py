"""Transformer layers: learned position embedding and the (shifted-)window Swin block."""

import keras
import numpy as np
from keras import layers, ops


@keras.saving.register_keras_serializable(package="dl_suite")
class PositionEmbedding(keras.layers.Layer):
    """Adds a learned embedding of the input's static shape (tokens, dim) or (H, W, dim).

    Args:
        initializer_stddev: stddev of the truncated-normal initialisation.
    """

    def __init__(self, initializer_stddev=0.02, **kwargs):
        super().__init__(**kwargs)
        self.initializer_stddev = float(initializer_stddev)

    def build(self, input_shape):
        self.embedding = self.add_weight(
            shape=(1, *input_shape[1:]), name="embedding",
            initializer=keras.initializers.TruncatedNormal(stddev=self.initializer_stddev),
        )

    def call(self, inputs):
        return inputs + ops.cast(self.embedding, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "initializer_stddev": self.initializer_stddev}


def _relative_position_index(window):
    coords = np.stack(np.meshgrid(np.arange(window), np.arange(window), indexing="ij"))
    coords = coords.reshape(2, -1)
    rel = (coords[:, :, None] - coords[:, None, :]).transpose(1, 2, 0) + (window - 1)
    return (rel[..., 0] * (2 * window - 1) + rel[..., 1]).astype("int32")


def _shift_mask(height, width, window, shift):
    """(num_windows, N, N) additive mask that keeps attention inside shifted regions."""
    region = np.zeros((height, width), dtype="int32")
    cuts = (slice(0, -window), slice(-window, -shift), slice(-shift, None))
    label = 0
    for hs in cuts:
        for ws in cuts:
            region[hs, ws] = label
            label += 1
    win = region.reshape(height // window, window, width // window, window)
    win = win.transpose(0, 2, 1, 3).reshape(-1, window * window)
    diff = win[:, None, :] - win[:, :, None]
    return np.where(diff != 0, -100.0, 0.0).astype("float32")


@keras.saving.register_keras_serializable(package="dl_suite")
class SwinTransformerBlock(keras.layers.Layer):
    """Swin Transformer block on (B, H, W, C): (shifted-)window attention + MLP, pre-norm.

    Args:
        num_heads: attention heads; C must be divisible by it.
        window_size: side of the square attention windows; H and W must be multiples.
        shift_size: cyclic shift (0 for W-MSA, window_size // 2 for SW-MSA).
        num_mlp: hidden units of the MLP.
        dropout_rate: dropout after attention and MLP.
    """

    def __init__(self, num_heads, window_size, shift_size=0, num_mlp=256, dropout_rate=0.0,
                 **kwargs):
        super().__init__(**kwargs)
        self.num_heads = int(num_heads)
        self.window_size = int(window_size)
        self.shift_size = int(shift_size)
        self.num_mlp = int(num_mlp)
        self.dropout_rate = float(dropout_rate)
        self.norm1 = layers.LayerNormalization(epsilon=1e-5, name="norm1")
        self.norm2 = layers.LayerNormalization(epsilon=1e-5, name="norm2")
        self.drop = layers.Dropout(self.dropout_rate, name="drop")

    def build(self, input_shape):
        _, height, width, dim = input_shape
        w = self.window_size
        if height % w or width % w or dim % self.num_heads:
            raise ValueError(
                f"Swin block got a {height}x{width}x{dim} feature map, but window_size={w} "
                f"must divide its height and width and num_heads={self.num_heads} its channels."
            )
        self.qkv = layers.Dense(3 * dim, name="qkv")
        self.proj = layers.Dense(dim, name="proj")
        self.mlp1 = layers.Dense(self.num_mlp, activation="gelu", name="mlp1")
        self.mlp2 = layers.Dense(dim, name="mlp2")
        self.norm1.build(input_shape)
        self.norm2.build(input_shape)
        self.qkv.build((None, w * w, dim))
        self.proj.build((None, w * w, dim))
        self.mlp1.build(input_shape)
        self.mlp2.build((*input_shape[:-1], self.num_mlp))
        self.bias_table = self.add_weight(
            shape=((2 * w - 1) ** 2, self.num_heads), name="relative_position_bias",
            initializer=keras.initializers.TruncatedNormal(stddev=0.02),
        )
        self._index = _relative_position_index(w).reshape(-1)
        self._mask = (_shift_mask(height, width, w, self.shift_size)
                      if self.shift_size > 0 else None)

    def _attention(self, x):
        _, height, width, dim = x.shape
        w, heads = self.window_size, self.num_heads
        n, hd = w * w, dim // heads
        x = ops.reshape(x, (-1, height // w, w, width // w, w, dim))
        x = ops.reshape(ops.transpose(x, (0, 1, 3, 2, 4, 5)), (-1, n, dim))
        qkv = ops.reshape(self.qkv(x), (-1, n, 3, heads, hd))
        qkv = ops.transpose(qkv, (2, 0, 3, 1, 4))
        q, k, v = qkv[0] * (hd ** -0.5), qkv[1], qkv[2]
        attn = ops.matmul(q, ops.transpose(k, (0, 1, 3, 2)))
        bias = ops.take(self.bias_table, ops.convert_to_tensor(self._index), axis=0)
        bias = ops.transpose(ops.reshape(bias, (n, n, heads)), (2, 0, 1))
        attn = attn + ops.cast(ops.expand_dims(bias, 0), attn.dtype)
        if self._mask is not None:
            num_windows = self._mask.shape[0]
            mask = ops.cast(ops.convert_to_tensor(self._mask[None, :, None]), attn.dtype)
            attn = ops.reshape(attn, (-1, num_windows, heads, n, n)) + mask
            attn = ops.reshape(attn, (-1, heads, n, n))
        attn = ops.softmax(attn, axis=-1)
        out = ops.reshape(ops.transpose(ops.matmul(attn, v), (0, 2, 1, 3)), (-1, n, dim))
        out = self.proj(out)
        out = ops.reshape(out, (-1, height // w, width // w, w, w, dim))
        return ops.reshape(ops.transpose(out, (0, 1, 3, 2, 4, 5)), (-1, height, width, dim))

    def call(self, inputs, training=None):
        s = self.shift_size
        x = self.norm1(inputs)
        if s:
            x = ops.roll(x, shift=(-s, -s), axis=(1, 2))
        x = self._attention(x)
        if s:
            x = ops.roll(x, shift=(s, s), axis=(1, 2))
        x = inputs + self.drop(x, training=training)
        y = self.mlp2(self.mlp1(self.norm2(x)))
        return x + self.drop(y, training=training)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(), "num_heads": self.num_heads,
            "window_size": self.window_size, "shift_size": self.shift_size,
            "num_mlp": self.num_mlp, "dropout_rate": self.dropout_rate,
        }
