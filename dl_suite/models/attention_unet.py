"""Attention U-Net (Oktay et al., 2018): additive attention gates on the skip connections."""

import keras
from keras import layers

from dl_suite.models import blocks
from dl_suite.models._registry import register_model


def attention_gate(skip, gating, inter_filters, name):
    """Additive attention: skip * sigmoid(psi(relu(theta(skip) + phi(gating))))."""
    theta = layers.Conv2D(inter_filters, 1, name=f"{name}_theta")(skip)
    phi = layers.Conv2D(inter_filters, 1, name=f"{name}_phi")(gating)
    act = layers.Activation("relu", name=f"{name}_relu")(layers.Add(name=f"{name}_add")([theta, phi]))
    psi = layers.Conv2D(1, 1, activation="sigmoid", name=f"{name}_psi")(act)
    return layers.Multiply(name=f"{name}_gate")([skip, psi])


@register_model("attention_unet", aliases=("TensorflowAttentionUNet",),
                multiple=lambda num_layers=5, **_: 2 ** (num_layers - 1),
                tiny=dict(base_filters=4, num_layers=3),
                description="U-Net with additive attention gates on every skip connection")
def build_attention_unet(input_shape, num_classes=1, *, num_layers=5, base_filters=16,
                         base_kernels=(3, 3), dropout_rate=0.05, batch_norm=True,
                         activation="relu", last_activation=None,
                         kernel_initializer="he_normal", padding="same"):
    """Builds an Attention U-Net.

    Args:
        input_shape: (H, W, C); H and W multiples of 2**(num_layers - 1).
        num_layers: levels including the bottleneck; level i has base_filters * 2**i filters.
        base_kernels: kernel size of every convolution.

    Returns:
        A `keras.Model` with output "main".
    """
    blocks.check_padding(padding)
    blocks.check_positive(num_layers, "num_layers")
    blocks.check_positive(base_filters, "base_filters")
    blocks.check_input_shape(input_shape, 2 ** (num_layers - 1), "attention_unet")
    blocks.check_activation(activation)
    dropout_rate = blocks.check_rate(dropout_rate)
    kernel = blocks.as_pair(base_kernels, "base_kernels")
    channels, act = blocks.resolve_head(num_classes, last_activation, "attention_unet")
    kw = dict(kernel_size=kernel, dropout_rate=dropout_rate, batch_norm=batch_norm,
              activation=activation, kernel_initializer=kernel_initializer)
    inputs = keras.Input(tuple(input_shape), name="image")
    x, skips = inputs, []
    for i in range(num_layers):
        if i:
            x = layers.MaxPooling2D(2, name=f"enc{i}_pool")(x)
        x = blocks.double_conv(x, base_filters * 2 ** i, f"enc{i}", **kw)
        skips.append(x)
    for i in range(num_layers - 2, -1, -1):
        f = base_filters * 2 ** i
        x = layers.Conv2DTranspose(f, 2, strides=2, padding="same", name=f"dec{i}_up")(x)
        gated = attention_gate(skips[i], x, max(1, f // 2), f"dec{i}_att")
        x = layers.Concatenate(name=f"dec{i}_concat")([x, gated])
        x = blocks.double_conv(x, f, f"dec{i}", **kw)
    outputs = blocks.output_head(x, channels, act)
    return keras.Model(inputs, outputs, name="attention_unet")
