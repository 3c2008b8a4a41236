"""BASNet (Qin et al., 2019; the INI tool's `TensorflowBASNet`, after the keras.io example):
a ResNet-34-style encoder with two extra stages, a dilated bridge, a decoder with a side output
per stage, and a residual refinement module (RRM) that corrects the coarse map.
"""

import keras
from keras import layers

from dl_suite.models import blocks
from dl_suite.models._registry import register_model

# Residual basic blocks per encoder stage: ResNet-34's 3, 4, 6, 3, then BASNet's 3, 3.
_BLOCKS = (3, 4, 6, 3, 3, 3)
_REFINE_LEVELS = 4


def _basic_block(x, filters, name, activation):
    shortcut = x
    if x.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, use_bias=False, name=f"{name}_proj")(x)
        shortcut = layers.BatchNormalization(name=f"{name}_proj_bn")(shortcut)
    y = blocks.conv_bn_act(x, filters, 3, f"{name}_c1", activation=activation)
    y = blocks.conv_bn_act(y, filters, 3, f"{name}_c2", activation=activation, use_act=False)
    y = layers.Add(name=f"{name}_add")([y, shortcut])
    return layers.Activation(activation, name=f"{name}_out")(y)


def _side(x, channels, scale, name):
    x = layers.Conv2D(channels, 3, padding="same", name=f"{name}_logits")(x)
    if scale > 1:
        x = layers.UpSampling2D(scale, interpolation="bilinear", name=f"{name}_up")(x)
    return x


def _refine(coarse, filters, name, activation):
    """RRM: a small U-Net on the coarse logits whose output is added to them."""
    x = blocks.conv_bn_act(coarse, filters, 3, f"{name}_in", activation=activation)
    skips = []
    for i in range(_REFINE_LEVELS):
        x = blocks.conv_bn_act(x, filters, 3, f"{name}_enc{i}", activation=activation)
        skips.append(x)
        x = layers.MaxPooling2D(2, name=f"{name}_pool{i}")(x)
    x = blocks.conv_bn_act(x, filters, 3, f"{name}_bridge", activation=activation)
    for i in range(_REFINE_LEVELS - 1, -1, -1):
        x = layers.UpSampling2D(2, interpolation="bilinear", name=f"{name}_up{i}")(x)
        x = layers.Concatenate(name=f"{name}_cat{i}")([x, skips[i]])
        x = blocks.conv_bn_act(x, filters, 3, f"{name}_dec{i}", activation=activation)
    x = layers.Conv2D(coarse.shape[-1], 3, padding="same", name=f"{name}_residual")(x)
    return layers.Add(name=f"{name}_add")([coarse, x])


def _multiple(num_layers=6, **_):
    return max(2 ** (num_layers - 1), 2 ** _REFINE_LEVELS)


@register_model("basnet", aliases=("TensorflowBASNet",), multiple=_multiple,
                tiny=dict(base_filters=4, num_layers=3, num_blocks=1, deep_supervision=True),
                description="BASNet: ResNet-34-style encoder-decoder with side outputs and a "
                            "residual refinement module (boundary-aware)")
def build_basnet(input_shape, num_classes=1, *, base_filters=64, num_layers=6, num_blocks=None,
                 activation="relu", last_activation=None, deep_supervision=False):
    """Builds BASNet.

    Args:
        input_shape: (height, width, channels); height and width multiples of
            max(2**(num_layers - 1), 16).
        base_filters: filters of the first stage (64 in the paper); stage i has
            base_filters * 2**min(i, 3).
        num_layers: encoder stages (6 in the paper), one pooling between stages.
        num_blocks: residual blocks per stage (None: 3, 4, 6, 3, 3, 3 as in the paper).
        deep_supervision: also return the side outputs "aux1".. (the coarse map before
            refinement, each decoder stage, the bridge; upsampled to the input size): 7 with
            num_layers=6, as in the paper.

    Returns:
        A `keras.Model` named "basnet": "main" (refined map), or ["main", "aux1", ...].
    """
    blocks.check_positive(base_filters, "base_filters")
    blocks.check_positive(num_layers, "num_layers", minimum=2)
    blocks.check_input_shape(input_shape, _multiple(num_layers), "basnet")
    blocks.check_activation(activation)
    channels, act = blocks.resolve_head(num_classes, last_activation, "basnet")
    counts = [num_blocks or _BLOCKS[min(i, len(_BLOCKS) - 1)] for i in range(num_layers)]
    filters = [base_filters * 2 ** min(i, 3) for i in range(num_layers)]
    inputs = keras.Input(tuple(input_shape), name="image")
    x = blocks.conv_bn_act(inputs, base_filters, 3, "enc_stem", activation=activation)
    skips = []
    for i, (count, f) in enumerate(zip(counts, filters)):
        if i > 0:
            x = layers.MaxPooling2D(2, name=f"enc{i}_pool")(x)
        for j in range(count):
            x = _basic_block(x, f, f"enc{i}_b{j}", activation)
        skips.append(x)
    for j in range(3):
        x = blocks.conv_bn_act(x, filters[-1], 3, f"bridge_c{j}", dilation=2, activation=activation)
    sides = [_side(x, channels, 2 ** (num_layers - 1), "side_bridge")]
    for i in range(num_layers - 1, -1, -1):
        x = layers.Concatenate(name=f"dec{i}_cat")([x, skips[i]])
        for j in range(3):
            x = blocks.conv_bn_act(x, filters[i], 3, f"dec{i}_c{j}", activation=activation)
        sides.append(_side(x, channels, 2 ** i, f"side_dec{i}"))
        if i > 0:
            x = layers.UpSampling2D(2, interpolation="bilinear", name=f"dec{i}_up")(x)
    refined = _refine(sides[-1], base_filters, "refine", activation)
    outputs = [layers.Activation(act, dtype="float32", name="main")(refined)]
    if deep_supervision:
        for k, side in enumerate(reversed(sides), start=1):
            outputs.append(layers.Activation(act, dtype="float32", name=f"aux{k}")(side))
    return keras.Model(inputs, outputs if deep_supervision else outputs[0], name="basnet")
