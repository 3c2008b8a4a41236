"""ICNet (Zhao et al., 2018): image cascade over three resolutions with cascade feature fusion."""

import keras
from keras import layers

from dl_suite.models import blocks
from dl_suite.models._registry import register_model
from dl_suite.models.backbones import basic_block
from dl_suite.models.pspnet import pyramid_pooling


def cascade_feature_fusion(small, large, filters, name, batch_norm=True):
    """CFF: upsample the coarse map x2, dilated 3x3; 1x1 on the fine map; sum and ReLU.

    Returns:
        The fused map and the upsampled coarse map (for the auxiliary classifier).
    """
    up = layers.UpSampling2D(2, interpolation="bilinear", name=f"{name}_up")(small)
    s = blocks.conv_bn_act(up, filters, 3, f"{name}_small", dilation=2, batch_norm=batch_norm,
                           use_act=False)
    g = blocks.conv_bn_act(large, filters, 1, f"{name}_large", batch_norm=batch_norm,
                           use_act=False)
    fused = layers.Activation("relu", name=f"{name}_relu")(layers.Add(name=f"{name}_add")([s, g]))
    return fused, up


@register_model("icnet", multiple=32, tiny=dict(base_filters=4, deep_supervision=True),
                description="ICNet: full/half/quarter-resolution branches joined by cascade "
                            "feature fusion; optional auxiliary outputs")
def build_icnet(input_shape, num_classes=1, *, base_filters=16, batch_norm=True,
                last_activation=None, deep_supervision=False):
    """Builds ICNet.

    The quarter-resolution branch reuses the half-resolution branch's stride-16 features
    (as in the paper) and adds dilated stages plus pyramid pooling at stride 32.

    Args:
        base_filters: widths base_filters * (1, 2, 4, 8) of the ResNet-18-style stages.
        deep_supervision: add "aux1" (stride-16 CFF) and "aux2" (stride-32) outputs.

    Returns:
        A `keras.Model`: "main", or ["main", "aux1", "aux2"].
    """
    blocks.check_positive(base_filters, "base_filters")
    blocks.check_input_shape(input_shape, 32, "icnet")
    channels, act = blocks.resolve_head(num_classes, last_activation, "icnet")
    kw = dict(batch_norm=batch_norm)
    b = base_filters
    inputs = keras.Input(tuple(input_shape), name="image")
    # full resolution: three light stride-2 convolutions -> stride 8
    full = inputs
    for i, f in enumerate((b // 2 or 1, b // 2 or 1, b)):
        full = blocks.conv_bn_act(full, f, 3, f"full_conv{i + 1}", strides=2, **kw)
    # half resolution: ResNet-18-style stem and two stages -> stride 16
    half = layers.AveragePooling2D(2, name="half_input")(inputs)
    half = blocks.conv_bn_act(half, b, 3, "enc_half_stem", strides=2, **kw)
    half = layers.MaxPooling2D(3, strides=2, padding="same", name="enc_half_pool")(half)
    half = basic_block(half, b, "enc1_block1", **kw)
    half = basic_block(half, 2 * b, "enc2_block1", strides=2, **kw)
    # quarter resolution: downsample the half branch's features -> stride 32, dilated stages
    quarter = layers.AveragePooling2D(2, name="quarter_input")(half)
    quarter = basic_block(quarter, 4 * b, "enc3_block1", dilation=2, **kw)
    quarter = basic_block(quarter, 8 * b, "enc4_block1", dilation=4, **kw)
    quarter = pyramid_pooling(quarter, batch_norm=batch_norm, mode="sum")
    quarter = blocks.conv_bn_act(quarter, 4 * b, 1, "quarter_proj", **kw)
    f16, up32 = cascade_feature_fusion(quarter, half, 4 * b, "cff16", batch_norm)
    f8, up16 = cascade_feature_fusion(f16, full, 4 * b, "cff8", batch_norm)
    x = layers.UpSampling2D(2, interpolation="bilinear", name="dec_up2")(f8)
    outputs = [blocks.output_head(x, channels, act, "main", upsample=4)]
    if deep_supervision:
        outputs.append(blocks.output_head(up16, channels, act, "aux1", upsample=8))
        outputs.append(blocks.output_head(up32, channels, act, "aux2", upsample=16))
    return keras.Model(inputs, outputs if deep_supervision else outputs[0], name="icnet")
