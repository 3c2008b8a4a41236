"""UNet 3+ (Huang et al., 2020): full-scale skip connections and optional deep supervision."""

import keras
from keras import layers

from dl_suite.models import blocks
from dl_suite.models._registry import register_model


def _full_scale_input(x, source_level, target_level, filters, name, batch_norm):
    """Brings one encoder/decoder map to the target level and projects it to `filters`."""
    if source_level < target_level:
        factor = 2 ** (target_level - source_level)
        x = layers.MaxPooling2D(factor, name=f"{name}_pool")(x)
    elif source_level > target_level:
        factor = 2 ** (source_level - target_level)
        x = layers.UpSampling2D(factor, interpolation="bilinear", name=f"{name}_up")(x)
    return blocks.conv_bn_act(x, filters, 3, name, batch_norm=batch_norm)


@register_model("unet3plus", aliases=("TensorflowUNet3Plus",),
                multiple=lambda num_layers=5, **_: 2 ** (num_layers - 1),
                tiny=dict(base_filters=4, num_layers=3, deep_supervision=True),
                description="UNet 3+: every decoder level fuses all encoder and deeper "
                            "decoder levels; optional deep supervision")
def build_unet3plus(input_shape, num_classes=1, *, num_layers=5, base_filters=16,
                    dropout_rate=0.05, batch_norm=True, activation="relu",
                    last_activation=None, deep_supervision=False):
    """Builds a UNet 3+.

    Args:
        num_layers: encoder levels including the bottleneck (filters base_filters * 2**i).
        deep_supervision: add outputs "aux1".. (one per deeper level, upsampled to the input
            size) after "main"; compile with `dl_suite.models.compile_kwargs`.

    Returns:
        A `keras.Model`: output "main", or ["main", "aux1", ...] with deep supervision.
    """
    blocks.check_positive(num_layers, "num_layers", minimum=2)
    blocks.check_positive(base_filters, "base_filters")
    blocks.check_input_shape(input_shape, 2 ** (num_layers - 1), "unet3plus")
    blocks.check_activation(activation)
    dropout_rate = blocks.check_rate(dropout_rate)
    channels, act = blocks.resolve_head(num_classes, last_activation, "unet3plus")
    inputs = keras.Input(tuple(input_shape), name="image")
    x, enc = inputs, []
    for i in range(num_layers):
        if i:
            x = layers.MaxPooling2D(2, name=f"enc{i}_pool")(x)
        x = blocks.double_conv(x, base_filters * 2 ** i, f"enc{i}", dropout_rate=dropout_rate,
                               batch_norm=batch_norm, activation=activation)
        enc.append(x)
    cat = base_filters
    dec = {num_layers - 1: enc[-1]}
    for level in range(num_layers - 2, -1, -1):
        parts = []
        for src in range(num_layers):
            feature = enc[src] if src <= level else dec[src]
            parts.append(_full_scale_input(feature, src, level, cat, f"dec{level}_from{src}",
                                           batch_norm))
        x = layers.Concatenate(name=f"dec{level}_concat")(parts)
        dec[level] = blocks.conv_bn_act(x, cat * num_layers, 3, f"dec{level}_fuse",
                                        batch_norm=batch_norm, activation=activation)
    outputs = [blocks.output_head(dec[0], channels, act, "main")]
    if deep_supervision:
        for level in range(1, num_layers):
            outputs.append(blocks.output_head(dec[level], channels, act, f"aux{level}",
                                              upsample=2 ** level))
    return keras.Model(inputs, outputs if deep_supervision else outputs[0], name="unet3plus")
