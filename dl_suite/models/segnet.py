"""SegNet (Badrinarayanan et al., 2017): VGG16-style encoder, max-unpooling decoder."""

import keras
from keras import layers

from dl_suite.models import blocks
from dl_suite.models._registry import register_model
from dl_suite.models.fcn import VGG16_CONVS
from dl_suite.models.layers import MaxUnpooling2D


@register_model("segnet", multiple=32, tiny=dict(base_filters=4),
                description="SegNet: VGG16-style encoder-decoder, upsampling by max-unpooling "
                            "at the encoder's pooling positions")
def build_segnet(input_shape, num_classes=1, *, base_filters=64, batch_norm=True,
                 activation="relu", last_activation=None):
    """Builds SegNet.

    The decoder places values at the positions that each 2x2 max-pooling selected (the
    argmax of the encoder map, see `MaxUnpooling2D`), which equals unpooling with stored
    indices.

    Args:
        base_filters: widths base_filters * (1, 2, 4, 8, 8) (64 is the original).

    Returns:
        A `keras.Model` with output "main".
    """
    blocks.check_positive(base_filters, "base_filters")
    blocks.check_input_shape(input_shape, 32, "segnet")
    blocks.check_activation(activation)
    channels, act = blocks.resolve_head(num_classes, last_activation, "segnet")
    kw = dict(batch_norm=batch_norm, activation=activation)
    widths = [base_filters * min(2 ** i, 8) for i in range(5)]
    inputs = keras.Input(tuple(input_shape), name="image")
    x, before_pool = inputs, []
    for i, n in enumerate(VGG16_CONVS):
        for j in range(n):
            x = blocks.conv_bn_act(x, widths[i], 3, f"enc{i + 1}_conv{j + 1}", **kw)
        before_pool.append(x)
        x = layers.MaxPooling2D(2, name=f"enc{i + 1}_pool")(x)
    for i in range(4, -1, -1):
        x = MaxUnpooling2D(name=f"dec{i + 1}_unpool")([x, before_pool[i]])
        n = VGG16_CONVS[i]
        for j in range(n):
            last = j == n - 1
            f = widths[i - 1] if last and i > 0 else widths[i]
            x = blocks.conv_bn_act(x, f, 3, f"dec{i + 1}_conv{j + 1}", **kw)
    return keras.Model(inputs, blocks.output_head(x, channels, act), name="segnet")
