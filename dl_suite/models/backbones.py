"""Encoders: keras.applications backbones (never downloaded) and a ResNet-18-style encoder."""

import os

import keras
from keras import layers

from dl_suite.models import blocks

# Feature layers at strides 2, 4, 8, 16, 32 of each keras.applications backbone.
APPLICATION_FEATURES = {
    "MobileNetV2": ("block_1_expand_relu", "block_3_expand_relu", "block_6_expand_relu",
                    "block_13_expand_relu", "out_relu"),
    "ResNet50": ("conv1_relu", "conv2_block3_out", "conv3_block4_out", "conv4_block6_out",
                 "conv5_block3_out"),
    **{f"EfficientNetB{i}": ("block2a_expand_activation", "block3a_expand_activation",
                             "block4a_expand_activation", "block6a_expand_activation",
                             "top_activation") for i in range(8)},
}


def check_weights(weights):
    """Returns `weights` if it is None or an existing local file; nothing is downloaded.

    Raises:
        ValueError: for "imagenet" or a path that does not exist.
    """
    if weights in (None, "", "None", "none"):
        return None
    if not isinstance(weights, (str, os.PathLike)) or not os.path.isfile(weights):
        raise blocks.ModelConfigError(
            f"Received `weights={weights!r}`, expected null (train from scratch) or the path "
            "of a local backbone weights file (.weights.h5 / .h5). dl-suite never downloads "
            "weights: to use ImageNet weights, download the keras.applications weights file "
            "once and set `weights` to its path."
        )
    return os.fspath(weights)


def application_encoder(app_name, input_shape, *, weights=None, levels=5, name="encoder",
                        **app_kwargs):
    """A keras.applications backbone as a nested model returning `levels` feature maps.

    Args:
        app_name: "MobileNetV2", "ResNet50" or "EfficientNetB0".."EfficientNetB7".
        input_shape: (H, W, C) of the backbone's input.
        weights: None or a local weights file (see `check_weights`).
        levels: how many feature maps (strides 2, 4, ..., 2**levels) to return.

    Returns:
        A `keras.Model` named `name` (so `freeze_encoder` finds it) with `levels` outputs.
    """
    weights = check_weights(weights)
    app = getattr(keras.applications, app_name)(
        include_top=False, weights=weights, input_shape=tuple(input_shape), **app_kwargs)
    outputs = [app.get_layer(n).output for n in APPLICATION_FEATURES[app_name][:levels]]
    return keras.Model(app.input, outputs, name=name)


def basic_block(x, filters, name, *, strides=1, dilation=1, batch_norm=True,
                activation="relu"):
    """ResNet basic block: two 3x3 convolutions with an identity or 1x1 projection shortcut."""
    kw = dict(batch_norm=batch_norm)
    shortcut = x
    if strides != 1 or x.shape[-1] != filters:
        shortcut = blocks.conv_bn_act(x, filters, 1, f"{name}_proj", strides=strides,
                                      use_act=False, **kw)
    y = blocks.conv_bn_act(x, filters, 3, f"{name}_conv1", strides=strides, dilation=dilation,
                           activation=activation, **kw)
    y = blocks.conv_bn_act(y, filters, 3, f"{name}_conv2", dilation=dilation, use_act=False,
                           **kw)
    y = layers.Add(name=f"{name}_add")([shortcut, y])
    return layers.Activation(activation, name=f"{name}_out")(y)


def resnet18_encoder(x, base_filters, *, output_stride=32, batch_norm=True, activation="relu",
                     prefix="enc"):
    """ResNet-18-style encoder (stem, max-pool, 4 stages of 2 basic blocks).

    Args:
        base_filters: stage widths base_filters * (1, 2, 4, 8) (64 gives ResNet-18).
        output_stride: 32, 16 or 8; deeper stages use dilation instead of striding.

    Returns:
        Feature maps at strides 2, 4, 8, 16, 32 (the last ones at `output_stride` when
        dilated).
    """
    if output_stride not in (8, 16, 32):
        raise blocks.ModelConfigError(f"Received output_stride={output_stride!r}, expected 8, 16 or 32.")
    kw = dict(batch_norm=batch_norm, activation=activation)
    stem = blocks.conv_bn_act(x, base_filters, 7, f"{prefix}_stem", strides=2, **kw)
    x = layers.MaxPooling2D(3, strides=2, padding="same", name=f"{prefix}_stem_pool")(stem)
    features, stride, dilation = [stem], 4, 1
    for s in range(4):
        strides = 1
        if s > 0:
            if stride < output_stride:
                strides, stride = 2, stride * 2
            else:
                dilation *= 2
        for b in range(2):
            x = basic_block(x, base_filters * 2 ** s, f"{prefix}{s + 1}_block{b + 1}",
                            strides=strides if b == 0 else 1, dilation=dilation, **kw)
        features.append(x)
    return features
