"""Sharp U-Net (Zunair & Hamza, 2021): skips pass a fixed depthwise sharpening filter."""

import keras
from keras import layers

from dl_suite.models import blocks
from dl_suite.models._registry import register_model
from dl_suite.models.layers import SharpenFilter


@register_model("sharp_unet", aliases=("TensorflowSharpUNet",),
                multiple=lambda num_layers=5, **_: 2 ** (num_layers - 1),
                tiny=dict(base_filters=4, num_layers=3),
                description="U-Net whose skip connections pass a fixed sharpening "
                            "(Laplacian + identity) depthwise filter")
def build_sharp_unet(input_shape, num_classes=1, *, num_layers=5, base_filters=16,
                     base_ksize=(5, 5), base_dilation=(2, 2), ksize=(3, 3), sharp_ksize=(3, 3),
                     dropout_rate=0.05, batch_norm=True, activation="relu",
                     last_activation=None, kernel_initializer="he_normal", padding="same"):
    """Builds a Sharp U-Net.

    Args:
        base_ksize, base_dilation: kernel and dilation of the first level's convolutions.
        ksize: kernel of all other convolutions.
        sharp_ksize: size of the fixed sharpening kernel on the skips (odd).

    Returns:
        A `keras.Model` with output "main".
    """
    blocks.check_padding(padding)
    blocks.check_positive(num_layers, "num_layers")
    blocks.check_positive(base_filters, "base_filters")
    blocks.check_input_shape(input_shape, 2 ** (num_layers - 1), "sharp_unet")
    blocks.check_activation(activation)
    dropout_rate = blocks.check_rate(dropout_rate)
    base_ksize = blocks.as_pair(base_ksize, "base_ksize")
    base_dilation = blocks.as_pair(base_dilation, "base_dilation")
    ksize = blocks.as_pair(ksize, "ksize")
    sharp_ksize = blocks.as_pair(sharp_ksize, "sharp_ksize")
    channels, act = blocks.resolve_head(num_classes, last_activation, "sharp_unet")
    kw = dict(dropout_rate=dropout_rate, batch_norm=batch_norm, activation=activation,
              kernel_initializer=kernel_initializer)
    inputs = keras.Input(tuple(input_shape), name="image")
    x, skips = inputs, []
    for i in range(num_layers):
        if i:
            x = layers.MaxPooling2D(2, name=f"enc{i}_pool")(x)
        x = blocks.double_conv(x, base_filters * 2 ** i, f"enc{i}",
                               kernel_size=base_ksize if i == 0 else ksize,
                               dilation=base_dilation if i == 0 else 1, **kw)
        skips.append(x)
    for i in range(num_layers - 2, -1, -1):
        f = base_filters * 2 ** i
        x = layers.Conv2DTranspose(f, 2, strides=2, padding="same", name=f"dec{i}_up")(x)
        sharp = SharpenFilter(sharp_ksize, name=f"dec{i}_sharpen")(skips[i])
        x = layers.Concatenate(name=f"dec{i}_concat")([x, sharp])
        x = blocks.double_conv(x, f, f"dec{i}", kernel_size=ksize, **kw)
    outputs = blocks.output_head(x, channels, act)
    return keras.Model(inputs, outputs, name="sharp_unet")
