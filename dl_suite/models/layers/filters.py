"""Fixed (non-trainable) image filters."""

import keras
import numpy as np
from keras import ops


def sharpening_kernel(size):
    """A (kh, kw) sharpening kernel: -1 everywhere, the centre kh*kw (sums to 1).

    A Laplacian of Gaussian-like high-pass plus identity, as in Sharp U-Net (Zunair &
    Hamza, 2021): it emphasises edges in the encoder features before they are concatenated.
    """
    kh, kw = size
    kernel = -np.ones((kh, kw), dtype="float32")
    kernel[kh // 2, kw // 2] = kh * kw
    return kernel


@keras.saving.register_keras_serializable(package="dl_suite")
class SharpenFilter(keras.layers.Layer):
    """Depthwise convolution of every channel with a fixed sharpening kernel.

    Args:
        kernel_size: (kh, kw), odd sizes.
    """

    def __init__(self, kernel_size=(3, 3), **kwargs):
        super().__init__(**kwargs)
        self.kernel_size = tuple(int(k) for k in kernel_size)
        if len(self.kernel_size) != 2 or min(self.kernel_size) < 1 or not all(
                k % 2 for k in self.kernel_size):
            raise ValueError(
                f"Received `sharp_ksize={kernel_size!r}`, expected two odd positive sizes "
                "such as (3, 3) or (5, 5)."
            )

    def build(self, input_shape):
        channels = int(input_shape[-1])
        kernel = sharpening_kernel(self.kernel_size)[:, :, None, None]
        self._kernel = np.tile(kernel, (1, 1, channels, 1))

    def call(self, inputs):
        kernel = ops.cast(ops.convert_to_tensor(self._kernel), inputs.dtype)
        return ops.depthwise_conv(inputs, kernel, strides=1, padding="same")

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "kernel_size": list(self.kernel_size)}
