"""U-Net family: the flexible INI U-Net, the JSON categorical variants, unet_3 and sim_unet."""

import logging

import keras
from keras import layers

from dl_suite.models import blocks
from dl_suite.models._registry import register_model

logger = logging.getLogger(__name__)


def _level_kernel(base_kernels, level, shrink):
    if not shrink:
        return base_kernels
    return tuple(max(3, k - 2 * level) if k >= 3 else k for k in base_kernels)


def _level_dilation(dilation, level, shrink):
    if not shrink:
        return dilation
    return tuple(max(1, d - level) for d in dilation)


def unet_graph(inputs, filters, *, kernels, dilations, dropout_rate, batch_norm, activation,
               kernel_initializer, downsample="maxpool", upsample="transpose"):
    """Encoder-decoder with skip connections; returns the last decoder feature map.

    Args:
        inputs: input tensor (B, H, W, C).
        filters: filters per level, the last entry is the bottleneck.
        kernels, dilations: (kh, kw) per level.
        downsample: "maxpool" or "strided" (3x3 stride-2 convolution).
        upsample: "transpose" (2x2 stride-2 Conv2DTranspose) or "upsampling" (nearest x2 +
            2x2 convolution).
    """
    conv_kw = dict(dropout_rate=dropout_rate, batch_norm=batch_norm, activation=activation,
                   kernel_initializer=kernel_initializer)
    skips, x = [], inputs
    for i, f in enumerate(filters):
        if i > 0:
            if downsample == "maxpool":
                x = layers.MaxPooling2D(2, name=f"enc{i}_pool")(x)
            else:
                x = blocks.conv_bn_act(x, filters[i - 1], 3, f"enc{i}_down", strides=2,
                                       batch_norm=batch_norm, activation=activation,
                                       kernel_initializer=kernel_initializer)
        x = blocks.double_conv(x, f, f"enc{i}", kernel_size=kernels[i], dilation=dilations[i],
                               **conv_kw)
        skips.append(x)
    for i in range(len(filters) - 2, -1, -1):
        f = filters[i]
        if upsample == "transpose":
            x = layers.Conv2DTranspose(f, 2, strides=2, padding="same",
                                       kernel_initializer=kernel_initializer,
                                       name=f"dec{i}_up")(x)
        else:
            x = layers.UpSampling2D(2, name=f"dec{i}_up")(x)
            x = layers.Conv2D(f, 2, padding="same", kernel_initializer=kernel_initializer,
                              name=f"dec{i}_upconv")(x)
        x = layers.Concatenate(name=f"dec{i}_concat")([x, skips[i]])
        x = blocks.double_conv(x, f, f"dec{i}", kernel_size=kernels[i], dilation=dilations[i],
                               **conv_kw)
    return x


def _build(model_name, input_shape, num_classes, *, num_levels, filters, kernels, dilations,
           dropout_rate, batch_norm, activation, last_activation, kernel_initializer,
           categorical=False, **graph_kw):
    blocks.check_positive(num_levels, "num_layers", minimum=1)
    blocks.check_input_shape(input_shape, 2 ** (num_levels - 1), model_name)
    blocks.check_rate(dropout_rate)
    blocks.check_activation(activation)
    channels, act = blocks.resolve_head(num_classes, last_activation, model_name, categorical)
    inputs = keras.Input(tuple(input_shape), name="image")
    x = unet_graph(inputs, filters, kernels=kernels, dilations=dilations,
                   dropout_rate=dropout_rate, batch_norm=batch_norm, activation=activation,
                   kernel_initializer=kernel_initializer, **graph_kw)
    outputs = blocks.output_head(x, channels, act)
    return keras.Model(inputs, outputs, name=model_name)


def _pools(num_layers=5, **_):
    return 2 ** (num_layers - 1)


@register_model("unet", aliases=("TensorflowUNet", "TensorflowSlightlyFlexibleUNet"),
                multiple=_pools, tiny=dict(base_filters=4, num_layers=3),
                description="Flexible U-Net: filters double per level, kernels shrink and "
                            "dilation decreases with depth")
def build_unet(input_shape, num_classes=1, *, num_layers=5, base_filters=16,
               base_kernels=(3, 3), dilation=(1, 1), dropout_rate=0.05, batch_norm=True,
               activation="relu", last_activation=None, kernel_initializer="he_normal",
               padding="same"):
    """Builds the flexible U-Net of the INI dialect (legacy `TensorflowUNet`).

    Args:
        input_shape: (height, width, channels); height and width multiples of
            2**(num_layers - 1).
        num_classes: 1 gives a sigmoid mask, more a softmax over classes.
        num_layers: encoder levels including the bottleneck (num_layers - 1 poolings).
        base_filters: filters of the first level; level i has base_filters * 2**i.
        base_kernels: kernel of the first level; it shrinks by 2 per level down to 3x3.
        dilation: dilation of the first level; it decreases by 1 per level down to 1.
        dropout_rate: dropout between the two convolutions of every stage.

    Returns:
        A `keras.Model` named "unet" with one output "main".
    """
    blocks.check_padding(padding)
    blocks.check_positive(base_filters, "base_filters")
    base_kernels = blocks.as_pair(base_kernels, "base_kernels")
    dilation = blocks.as_pair(dilation, "dilation")
    n = num_layers
    return _build(
        "unet", input_shape, num_classes, num_levels=n,
        filters=[base_filters * 2 ** i for i in range(n)],
        kernels=[_level_kernel(base_kernels, i, True) for i in range(n)],
        dilations=[_level_dilation(dilation, i, True) for i in range(n)],
        dropout_rate=dropout_rate, batch_norm=batch_norm, activation=activation,
        last_activation=last_activation, kernel_initializer=kernel_initializer,
    )


def _categorical(model_name, input_shape, num_classes, num_layers, base_filters, base_kernels,
                 dilation, dropout_rate, batch_norm, activation, last_activation,
                 kernel_initializer, padding, **graph_kw):
    blocks.check_padding(padding)
    blocks.check_positive(base_filters, "base_filters")
    kernel = blocks.as_pair(base_kernels, "base_kernels")
    dil = blocks.as_pair(dilation, "dilation")
    return _build(
        model_name, input_shape, num_classes, num_levels=num_layers,
        filters=[base_filters * 2 ** i for i in range(num_layers)],
        kernels=[kernel] * num_layers, dilations=[dil] * num_layers,
        dropout_rate=dropout_rate, batch_norm=batch_norm, activation=activation,
        last_activation=last_activation, kernel_initializer=kernel_initializer,
        categorical=True, **graph_kw,
    )


_CAT_TINY = dict(base_filters=4, num_layers=3, num_classes=3)


@register_model("categorical_unet", multiple=_pools, tiny=_CAT_TINY,
                description="U-Net with a softmax over classes (JSON dialect)")
def build_categorical_unet(input_shape, num_classes=2, *, num_layers=5, base_filters=16,
                           base_kernels=(3, 3), dropout_rate=0.05, batch_norm=True,
                           activation="relu", last_activation=None,
                           kernel_initializer="he_normal", padding="same"):
    """U-Net, max-pooling encoder, nearest-upsampling decoder, softmax (>= 2 classes)."""
    return _categorical("categorical_unet", input_shape, num_classes, num_layers, base_filters,
                        base_kernels, 1, dropout_rate, batch_norm, activation,
                        last_activation, kernel_initializer, padding, upsample="upsampling")


@register_model("categorical_unet_transpose", multiple=_pools, tiny=_CAT_TINY,
                description="Categorical U-Net with a transposed-convolution decoder")
def build_categorical_unet_transpose(input_shape, num_classes=2, *, num_layers=5,
                                     base_filters=16, base_kernels=(3, 3), dropout_rate=0.05,
                                     batch_norm=True, activation="relu", last_activation=None,
                                     kernel_initializer="he_normal", padding="same"):
    """Categorical U-Net whose decoder upsamples with 2x2 stride-2 Conv2DTranspose."""
    return _categorical("categorical_unet_transpose", input_shape, num_classes, num_layers,
                        base_filters, base_kernels, 1, dropout_rate, batch_norm, activation,
                        last_activation, kernel_initializer, padding, upsample="transpose")


@register_model("categorical_unet_fc", multiple=_pools, tiny=_CAT_TINY,
                description="Fully convolutional categorical U-Net: stride-2 convolutions "
                            "instead of pooling")
def build_categorical_unet_fc(input_shape, num_classes=2, *, num_layers=5, base_filters=16,
                              base_kernels=(3, 3), dropout_rate=0.05, batch_norm=True,
                              activation="relu", last_activation=None,
                              kernel_initializer="he_normal", padding="same"):
    """Categorical U-Net that downsamples with 3x3 stride-2 convolutions."""
    return _categorical("categorical_unet_fc", input_shape, num_classes, num_layers,
                        base_filters, base_kernels, 1, dropout_rate, batch_norm, activation,
                        last_activation, kernel_initializer, padding, downsample="strided",
                        upsample="transpose")


@register_model("categorical_unet_fc_dil", multiple=_pools,
                tiny=dict(_CAT_TINY, dilation=(2, 2)),
                description="categorical_unet_fc with dilated convolutions (`dilation`)")
def build_categorical_unet_fc_dil(input_shape, num_classes=2, *, num_layers=5, base_filters=16,
                                  base_kernels=(3, 3), dilation=(2, 2), dropout_rate=0.05,
                                  batch_norm=True, activation="relu", last_activation=None,
                                  kernel_initializer="he_normal", padding="same"):
    """categorical_unet_fc whose convolutions all use `dilation` (1 is raised to 2)."""
    dil = blocks.as_pair(dilation, "dilation")
    if dil == (1, 1):
        logger.warning("categorical_unet_fc_dil with dilation=(1, 1) would equal "
                       "categorical_unet_fc; using dilation=(2, 2). Set `dilation` to choose.")
        dil = (2, 2)
    return _categorical("categorical_unet_fc_dil", input_shape, num_classes, num_layers,
                        base_filters, base_kernels, dil, dropout_rate, batch_norm, activation,
                        last_activation, kernel_initializer, padding, downsample="strided",
                        upsample="transpose")


@register_model("unet_3", multiple=4, tiny=dict(base_filters=4),
                description="Shallow U-Net with two poolings (robustness study)")
def build_unet_3(input_shape, num_classes=1, *, base_filters=16, dropout_rate=0.05,
                 batch_norm=True, activation="relu", last_activation=None,
                 kernel_initializer="he_normal"):
    """U-Net with three levels (two max-poolings), filters base_filters * (1, 2, 4)."""
    blocks.check_positive(base_filters, "base_filters")
    return _build("unet_3", input_shape, num_classes, num_levels=3,
                  filters=[base_filters * 2 ** i for i in range(3)], kernels=[(3, 3)] * 3,
                  dilations=[(1, 1)] * 3, dropout_rate=dropout_rate, batch_norm=batch_norm,
                  activation=activation, last_activation=last_activation,
                  kernel_initializer=kernel_initializer)


@register_model("sim_unet", multiple=4, tiny={},
                description="Thin 16-32-32 U-Net (robustness study)")
def build_sim_unet(input_shape, num_classes=1, *, dropout_rate=0.05, batch_norm=True,
                   activation="relu", last_activation=None, kernel_initializer="he_normal"):
    """Thin U-Net with fixed filters 16-32-32 and two poolings (no width knob by design)."""
    return _build("sim_unet", input_shape, num_classes, num_levels=3, filters=[16, 32, 32],
                  kernels=[(3, 3)] * 3, dilations=[(1, 1)] * 3, dropout_rate=dropout_rate,
                  batch_norm=batch_norm, activation=activation,
                  last_activation=last_activation, kernel_initializer=kernel_initializer)
