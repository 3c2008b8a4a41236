"""U-Nets with a keras.applications EfficientNet (B0-B7) encoder."""

import keras
from keras import layers

from dl_suite.models import blocks
from dl_suite.models._registry import register_model
from dl_suite.models.backbones import application_encoder

_VARIANTS = tuple(f"B{i}" for i in range(8))


def _efficient_unet(model_name, input_shape, num_classes, variant, base_filters, weights,
                    dropout_rate, batch_norm, activation, last_activation):
    variant = str(variant).upper().replace("EFFICIENTNET", "")
    if variant not in _VARIANTS:
        raise blocks.ModelConfigError(
            f"Received `efficientnet={variant!r}`, expected one of {', '.join(_VARIANTS)}."
        )
    blocks.check_positive(base_filters, "base_filters")
    blocks.check_input_shape(input_shape, 32, model_name)
    blocks.check_activation(activation)
    kw = dict(dropout_rate=blocks.check_rate(dropout_rate), batch_norm=batch_norm,
              activation=activation)
    channels, act = blocks.resolve_head(num_classes, last_activation, model_name)
    inputs = keras.Input(tuple(input_shape), name="image")
    encoder = application_encoder(f"EfficientNet{variant}", input_shape, weights=weights)
    *skips, x = encoder(inputs)
    for level in range(4, -1, -1):
        x = layers.UpSampling2D(2, interpolation="bilinear", name=f"dec{level}_up")(x)
        if level > 0:
            x = layers.Concatenate(name=f"dec{level}_concat")([x, skips[level - 1]])
        x = blocks.double_conv(x, base_filters * 2 ** level, f"dec{level}", **kw)
    return keras.Model(inputs, blocks.output_head(x, channels, act), name=model_name)


@register_model("efficient_unet", aliases=("TensorflowEfficientUNet",), multiple=32,
                tiny=dict(base_filters=4, efficientnet="B0"),
                description="U-Net with an EfficientNet-B0..B7 encoder (`efficientnet`)")
def build_efficient_unet(input_shape, num_classes=1, *, efficientnet="B0", base_filters=16,
                         weights=None, dropout_rate=0.05, batch_norm=True, activation="relu",
                         last_activation=None):
    """Builds an EfficientNet U-Net.

    Args:
        efficientnet: "B0".."B7".
        base_filters: decoder widths base_filters * 2**level (level 4 at stride 16).
        weights: None (from scratch) or a local EfficientNet weights file.

    Note:
        keras.applications EfficientNets rescale their input by 1/255 internally; with
        normalised [0, 1] images the first batch norm absorbs this when training from scratch.

    Returns:
        A `keras.Model` with output "main" (the encoder is the nested layer "encoder").
    """
    return _efficient_unet("efficient_unet", input_shape, num_classes, efficientnet,
                           base_filters, weights, dropout_rate, batch_norm, activation,
                           last_activation)


@register_model("efficientnetb7_unet", aliases=("TensorflowEfficientNetB7UNet",), multiple=32,
                tiny=dict(base_filters=4),
                description="efficient_unet with the EfficientNet-B7 encoder")
def build_efficientnetb7_unet(input_shape, num_classes=1, *, base_filters=16, weights=None,
                              dropout_rate=0.05, batch_norm=True, activation="relu",
                              last_activation=None):
    """Builds the EfficientNet-B7 U-Net (about 67M parameters; see `build_efficient_unet`)."""
    return _efficient_unet("efficientnetb7_unet", input_shape, num_classes, "B7", base_filters,
                           weights, dropout_rate, batch_norm, activation, last_activation)
