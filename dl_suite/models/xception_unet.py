"""Xception-like U-Net (the INI tool's `TensorflowXceptionLikeUNet`, after the keras.io
"Image segmentation with a U-Net-like architecture" example): separable-convolution encoder
blocks and transposed-convolution decoder blocks, each with a 1x1 residual projection.
"""

import keras
from keras import layers

from dl_suite.models import blocks
from dl_suite.models._registry import register_model


def _encoder_block(x, filters, name, activation):
    residual = x
    for i in (1, 2):
        x = layers.Activation(activation, name=f"{name}_act{i}")(x)
        x = layers.SeparableConv2D(filters, 3, padding="same", name=f"{name}_sep{i}")(x)
        x = layers.BatchNormalization(name=f"{name}_bn{i}")(x)
    x = layers.MaxPooling2D(3, strides=2, padding="same", name=f"{name}_pool")(x)
    residual = layers.Conv2D(filters, 1, strides=2, padding="same", name=f"{name}_res")(residual)
    return layers.Add(name=f"{name}_add")([x, residual])


def _decoder_block(x, filters, name, activation):
    residual = x
    for i in (1, 2):
        x = layers.Activation(activation, name=f"{name}_act{i}")(x)
        x = layers.Conv2DTranspose(filters, 3, padding="same", name=f"{name}_convt{i}")(x)
        x = layers.BatchNormalization(name=f"{name}_bn{i}")(x)
    x = layers.UpSampling2D(2, name=f"{name}_up")(x)
    residual = layers.UpSampling2D(2, name=f"{name}_res_up")(residual)
    residual = layers.Conv2D(filters, 1, padding="same", name=f"{name}_res")(residual)
    return layers.Add(name=f"{name}_add")([x, residual])


@register_model("xception_unet", aliases=("TensorflowXceptionLikeUNet",),
                multiple=lambda num_layers=4, **_: 2 ** num_layers,
                tiny=dict(base_filters=4, num_layers=3),
                description="Xception-like U-Net: separable-convolution residual encoder, "
                            "transposed-convolution residual decoder (keras.io example)")
def build_xception_unet(input_shape, num_classes=1, *, base_filters=32, num_layers=4,
                        activation="relu", last_activation=None):
    """Builds the Xception-like U-Net.

    Args:
        input_shape: (height, width, channels); height and width multiples of 2**num_layers.
        base_filters: filters of the stride-2 entry convolution (32 in the keras.io example);
            encoder block i has base_filters * 2**i filters.
        num_layers: levels: the entry convolution plus num_layers - 1 encoder blocks (4 gives
            the example's 32, 64, 128, 256).

    Returns:
        A `keras.Model` named "xception_unet" with one output "main".
    """
    blocks.check_positive(base_filters, "base_filters")
    blocks.check_positive(num_layers, "num_layers", minimum=2)
    blocks.check_input_shape(input_shape, 2 ** num_layers, "xception_unet")
    blocks.check_activation(activation)
    channels, act = blocks.resolve_head(num_classes, last_activation, "xception_unet")
    inputs = keras.Input(tuple(input_shape), name="image")
    x = layers.Conv2D(base_filters, 3, strides=2, padding="same", name="enc0_conv")(inputs)
    x = layers.BatchNormalization(name="enc0_bn")(x)
    x = layers.Activation(activation, name="enc0_act")(x)
    filters = [base_filters * 2 ** i for i in range(num_layers)]
    for i in range(1, num_layers):
        x = _encoder_block(x, filters[i], f"enc{i}", activation)
    for i in range(num_layers - 1, -1, -1):
        x = _decoder_block(x, filters[i], f"dec{i}", activation)
    outputs = layers.Conv2D(channels, 3, padding="same", name="main_logits")(x)
    outputs = layers.Activation(act, dtype="float32", name="main")(outputs)
    return keras.Model(inputs, outputs, name="xception_unet")
