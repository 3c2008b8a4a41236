"""PSPNet (Zhao et al., 2017): dilated ResNet-18-style encoder and pyramid pooling (1/2/3/6)."""

import keras
from keras import layers

from dl_suite.models import blocks
from dl_suite.models._registry import register_model
from dl_suite.models.backbones import resnet18_encoder
from dl_suite.models.layers import AdaptiveAveragePooling2D


def pyramid_pooling(x, name="ppm", bins=(1, 2, 3, 6), batch_norm=True, mode="concat"):
    """Pools x to bins x bins grids, projects, resizes back and concatenates (or sums)."""
    size = blocks.spatial(x)
    channels = int(x.shape[-1])
    parts = [x] if mode == "concat" else []
    for b in bins:
        y = AdaptiveAveragePooling2D(b, name=f"{name}_pool{b}")(x)
        y = blocks.conv_bn_act(y, max(1, channels // len(bins)) if mode == "concat" else channels,
                               1, f"{name}_bin{b}", batch_norm=batch_norm)
        parts.append(blocks.resize_to(y, size, f"{name}_resize{b}"))
    if mode == "concat":
        return layers.Concatenate(name=f"{name}_concat")(parts)
    return layers.Add(name=f"{name}_sum")([x, *parts])


@register_model("pspnet", multiple=8, tiny=dict(base_filters=4, deep_supervision=True),
                description="PSPNet: dilated ResNet-18-style encoder (stride 8), pyramid "
                            "pooling 1/2/3/6, optional auxiliary head")
def build_pspnet(input_shape, num_classes=1, *, base_filters=16, dropout_rate=0.1,
                 batch_norm=True, last_activation=None, deep_supervision=False):
    """Builds PSPNet.

    Args:
        base_filters: encoder widths base_filters * (1, 2, 4, 8) (64 = ResNet-18).
        deep_supervision: add the auxiliary head on stage 3 as output "aux1".

    Returns:
        A `keras.Model`: "main", or ["main", "aux1"].
    """
    blocks.check_positive(base_filters, "base_filters")
    blocks.check_input_shape(input_shape, 8, "pspnet")
    dropout_rate = blocks.check_rate(dropout_rate)
    channels, act = blocks.resolve_head(num_classes, last_activation, "pspnet")
    inputs = keras.Input(tuple(input_shape), name="image")
    feats = resnet18_encoder(inputs, base_filters, output_stride=8, batch_norm=batch_norm)
    x = pyramid_pooling(feats[4], batch_norm=batch_norm)
    x = blocks.conv_bn_act(x, base_filters * 8, 3, "dec_conv", batch_norm=batch_norm)
    if dropout_rate:
        x = layers.Dropout(dropout_rate, name="dec_drop")(x)
    outputs = [blocks.output_head(x, channels, act, "main", upsample=8)]
    if deep_supervision:
        aux = blocks.conv_bn_act(feats[3], base_filters * 4, 3, "aux1_conv",
                                 batch_norm=batch_norm)
        outputs.append(blocks.output_head(aux, channels, act, "aux1", upsample=8))
    return keras.Model(inputs, outputs if deep_supervision else outputs[0], name="pspnet")
