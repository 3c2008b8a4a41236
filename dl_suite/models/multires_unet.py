"""MultiResUNet (Ibtehaz & Rahman, 2020): MultiRes blocks and residual skip paths."""

import keras
from keras import layers

from dl_suite.models import blocks
from dl_suite.models._registry import register_model

_ALPHA = 1.67


def multires_block(x, units, name, *, batch_norm, activation):
    """Chained 3x3 convolutions (3x3, 5x5, 7x7 receptive fields) plus a 1x1 shortcut."""
    width = _ALPHA * units
    f1, f2, f3 = max(1, int(width / 6)), max(1, int(width / 3)), max(1, int(width / 2))
    kw = dict(batch_norm=batch_norm, activation=activation)
    shortcut = blocks.conv_bn_act(x, f1 + f2 + f3, 1, f"{name}_short", use_act=False, **kw)
    c3 = blocks.conv_bn_act(x, f1, 3, f"{name}_c3", **kw)
    c5 = blocks.conv_bn_act(c3, f2, 3, f"{name}_c5", **kw)
    c7 = blocks.conv_bn_act(c5, f3, 3, f"{name}_c7", **kw)
    out = layers.Concatenate(name=f"{name}_concat")([c3, c5, c7])
    if batch_norm:
        out = layers.BatchNormalization(name=f"{name}_bn")(out)
    out = layers.Add(name=f"{name}_add")([shortcut, out])
    return layers.Activation(activation, name=f"{name}_act")(out)


def res_path(x, filters, length, name, *, batch_norm, activation):
    """`length` residual 3x3 convolutions that narrow the encoder-decoder semantic gap."""
    kw = dict(batch_norm=batch_norm, activation=activation)
    for j in range(length):
        shortcut = blocks.conv_bn_act(x, filters, 1, f"{name}{j}_short", use_act=False, **kw)
        x = blocks.conv_bn_act(x, filters, 3, f"{name}{j}_conv", **kw)
        x = layers.Add(name=f"{name}{j}_add")([shortcut, x])
    return x


@register_model("multires_unet", aliases=("TensorflowMultiResUNet",),
                multiple=lambda num_layers=5, **_: 2 ** (num_layers - 1),
                tiny=dict(base_filters=4, num_layers=3),
                description="MultiResUNet: MultiRes blocks and residual skip paths")
def build_multires_unet(input_shape, num_classes=1, *, num_layers=5, base_filters=16,
                        dropout_rate=0.05, batch_norm=True, activation="relu",
                        last_activation=None):
    """Builds a MultiResUNet (level i: base_filters * 2**i units, ResPath of num_layers-1-i).

    Returns:
        A `keras.Model` with output "main".
    """
    blocks.check_positive(num_layers, "num_layers")
    blocks.check_positive(base_filters, "base_filters")
    blocks.check_input_shape(input_shape, 2 ** (num_layers - 1), "multires_unet")
    blocks.check_activation(activation)
    dropout_rate = blocks.check_rate(dropout_rate)
    channels, act = blocks.resolve_head(num_classes, last_activation, "multires_unet")
    kw = dict(batch_norm=batch_norm, activation=activation)
    inputs = keras.Input(tuple(input_shape), name="image")
    x, skips = inputs, []
    for i in range(num_layers):
        if i:
            x = layers.MaxPooling2D(2, name=f"enc{i}_pool")(x)
        x = multires_block(x, base_filters * 2 ** i, f"enc{i}", **kw)
        if dropout_rate and i == num_layers - 1:
            x = layers.Dropout(dropout_rate, name=f"enc{i}_drop")(x)
        if i < num_layers - 1:
            skips.append(res_path(x, base_filters * 2 ** i, num_layers - 1 - i,
                                  f"enc{i}_respath", **kw))
    for i in range(num_layers - 2, -1, -1):
        f = base_filters * 2 ** i
        x = layers.Conv2DTranspose(f, 2, strides=2, padding="same", name=f"dec{i}_up")(x)
        x = layers.Concatenate(name=f"dec{i}_skipcat")([x, skips[i]])
        x = multires_block(x, f, f"dec{i}", **kw)
    outputs = blocks.output_head(x, channels, act)
    return keras.Model(inputs, outputs, name="multires_unet")
