"""U^2-Net (Qin et al., 2020): nested residual U-blocks (RSU) and fused side outputs."""

import keras
from keras import layers

from dl_suite.models import blocks
from dl_suite.models._registry import register_model


def rsu(x, height, mid, out, name, *, dilated=False, batch_norm=True, activation="relu"):
    """Residual U-block RSU-`height` (or RSU-4F with `dilated=True`: dilations, no pooling)."""
    kw = dict(batch_norm=batch_norm, activation=activation)
    x_in = blocks.conv_bn_act(x, out, 3, f"{name}_in", **kw)
    h, enc = x_in, []
    for i in range(1, height):
        if i > 1 and not dilated:
            h = layers.MaxPooling2D(2, name=f"{name}_pool{i}")(h)
        h = blocks.conv_bn_act(h, mid, 3, f"{name}_enc{i}",
                               dilation=2 ** (i - 1) if dilated else 1, **kw)
        enc.append(h)
    d = blocks.conv_bn_act(enc[-1], mid, 3, f"{name}_bottom",
                           dilation=2 ** (height - 1) if dilated else 2, **kw)
    for i in range(height - 1, 0, -1):
        d = layers.Concatenate(name=f"{name}_cat{i}")([d, enc[i - 1]])
        d = blocks.conv_bn_act(d, out if i == 1 else mid, 3, f"{name}_dec{i}",
                               dilation=2 ** (i - 1) if dilated else 1, **kw)
        if i > 1 and not dilated:
            d = layers.UpSampling2D(2, interpolation="bilinear", name=f"{name}_up{i}")(d)
    return layers.Add(name=f"{name}_add")([d, x_in])


# (RSU height, dilated, mid factor, out factor) per encoder stage, in units of base_filters/4;
# base_filters=64 reproduces the full U^2-Net (mid 32..256, out 64..512).
_ENCODER = [(7, False, 2, 4), (6, False, 2, 8), (5, False, 4, 16), (4, False, 8, 32),
            (4, True, 16, 32), (4, True, 16, 32)]
_DECODER = [(7, False, 1, 4), (6, False, 2, 4), (5, False, 4, 8), (4, False, 8, 16),
            (4, True, 16, 32)]


@register_model("u2net", aliases=("TensorflowU2Net",), multiple=32,
                tiny=dict(base_filters=4, deep_supervision=True),
                description="U^2-Net: two-level nested U-structure of RSU blocks, six side "
                            "outputs fused into the main output")
def build_u2net(input_shape, num_classes=1, *, base_filters=16, batch_norm=True,
                activation="relu", last_activation=None, deep_supervision=False):
    """Builds a U^2-Net (base_filters=64: the original; 16: about the size of U^2-Net-lite).

    Args:
        deep_supervision: also return the six side outputs "aux1".."aux6" (input size).

    Returns:
        A `keras.Model`: "main" (the fused map), or ["main", "aux1", ..., "aux6"].
    """
    blocks.check_positive(base_filters, "base_filters")
    blocks.check_input_shape(input_shape, 32, "u2net")
    blocks.check_activation(activation)
    channels, act = blocks.resolve_head(num_classes, last_activation, "u2net")
    unit = max(1, base_filters // 4)
    kw = dict(batch_norm=batch_norm, activation=activation)
    inputs = keras.Input(tuple(input_shape), name="image")
    x, enc = inputs, []
    for s, (height, dilated, mid, out) in enumerate(_ENCODER, start=1):
        if s > 1:
            x = layers.MaxPooling2D(2, name=f"enc{s}_pool")(x)
        x = rsu(x, height, mid * unit, out * unit, f"enc{s}", dilated=dilated, **kw)
        enc.append(x)
    sides = {6: x}
    for s in range(5, 0, -1):
        height, dilated, mid, out = _DECODER[s - 1]
        x = layers.UpSampling2D(2, interpolation="bilinear", name=f"dec{s}_up")(x)
        x = layers.Concatenate(name=f"dec{s}_cat")([x, enc[s - 1]])
        x = rsu(x, height, mid * unit, out * unit, f"dec{s}", dilated=dilated, **kw)
        sides[s] = x
    logits = []
    for s in range(1, 7):
        side = layers.Conv2D(channels, 3, padding="same", name=f"side{s}_conv")(sides[s])
        if s > 1:
            side = layers.UpSampling2D(2 ** (s - 1), interpolation="bilinear",
                                       name=f"side{s}_up")(side)
        logits.append(side)
    fused = layers.Conv2D(channels, 1, name="main_logits")(
        layers.Concatenate(name="side_concat")(logits))
    outputs = [layers.Activation(act, dtype="float32", name="main")(fused)]
    if deep_supervision:
        outputs += [layers.Activation(act, dtype="float32", name=f"aux{s}")(logits[s - 1])
                    for s in range(1, 7)]
    return keras.Model(inputs, outputs if deep_supervision else outputs[0], name="u2net")
