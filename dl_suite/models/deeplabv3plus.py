"""DeepLabV3+ (Chen et al., 2018): ASPP (rates 6/12/18 + image pooling) and a low-level decoder."""

import keras
from keras import layers

from dl_suite.models import blocks
from dl_suite.models._registry import register_model
from dl_suite.models.backbones import application_encoder, resnet18_encoder

_BACKBONES = ("resnet50", "resnet18")


def aspp(x, filters, name="aspp", rates=(6, 12, 18), batch_norm=True, dropout_rate=0.1):
    """Atrous spatial pyramid pooling: 1x1, three dilated 3x3 and image-level pooling."""
    h, w = blocks.spatial(x)
    branches = [blocks.conv_bn_act(x, filters, 1, f"{name}_1x1", batch_norm=batch_norm)]
    for rate in rates:
        branches.append(blocks.conv_bn_act(x, filters, 3, f"{name}_rate{rate}", dilation=rate,
                                           batch_norm=batch_norm))
    pooled = layers.GlobalAveragePooling2D(keepdims=True, name=f"{name}_pool")(x)
    pooled = blocks.conv_bn_act(pooled, filters, 1, f"{name}_pool_proj", batch_norm=False)
    branches.append(layers.UpSampling2D((h, w), name=f"{name}_pool_up")(pooled))
    x = layers.Concatenate(name=f"{name}_concat")(branches)
    x = blocks.conv_bn_act(x, filters, 1, f"{name}_proj", batch_norm=batch_norm)
    return layers.Dropout(dropout_rate, name=f"{name}_drop")(x) if dropout_rate else x


@register_model("deeplabv3plus", aliases=("TensorflowDeepLabV3Plus",), multiple=16,
                tiny=dict(base_filters=4, backbone="resnet18"),
                description="DeepLabV3+: ResNet encoder at output stride 16, ASPP, "
                            "low-level (stride 4) decoder")
def build_deeplabv3plus(input_shape, num_classes=1, *, backbone="resnet50", base_filters=16,
                        weights=None, dropout_rate=0.1, batch_norm=True, last_activation=None):
    """Builds DeepLabV3+.

    Args:
        backbone: "resnet50" (keras.applications ResNet50, nested layer "encoder") or
            "resnet18" (ResNet-18-style, widths base_filters * (1, 2, 4, 8), dilated last
            stage).
        base_filters: ASPP / decoder width base_filters * 16 (256 for 16), low-level
            projection base_filters * 3 (48 for 16).
        weights: None or a local ResNet50 weights file (resnet50 only).

    Returns:
        A `keras.Model` with output "main".
    """
    if backbone not in _BACKBONES:
        raise blocks.ModelConfigError(f"Received `backbone={backbone!r}`, expected one of {_BACKBONES}.")
    blocks.check_positive(base_filters, "base_filters")
    blocks.check_input_shape(input_shape, 16, "deeplabv3plus")
    dropout_rate = blocks.check_rate(dropout_rate)
    channels, act = blocks.resolve_head(num_classes, last_activation, "deeplabv3plus")
    inputs = keras.Input(tuple(input_shape), name="image")
    if backbone == "resnet50":
        feats = application_encoder("ResNet50", input_shape, weights=weights, levels=4)(inputs)
        low, high = feats[1], feats[3]
    else:
        feats = resnet18_encoder(inputs, base_filters, output_stride=16, batch_norm=batch_norm)
        low, high = feats[1], feats[4]
    width = base_filters * 16
    x = aspp(high, width, batch_norm=batch_norm, dropout_rate=dropout_rate)
    x = layers.UpSampling2D(4, interpolation="bilinear", name="dec_up4")(x)
    low = blocks.conv_bn_act(low, base_filters * 3, 1, "dec_low_proj", batch_norm=batch_norm)
    x = layers.Concatenate(name="dec_concat")([x, low])
    x = blocks.conv_bn_act(x, width, 3, "dec_conv1", batch_norm=batch_norm)
    x = blocks.conv_bn_act(x, width, 3, "dec_conv2", batch_norm=batch_norm)
    outputs = blocks.output_head(x, channels, act, upsample=4)
    return keras.Model(inputs, outputs, name="deeplabv3plus")
