"""FCN-8s (Long et al., 2015): VGG16-style encoder, summed score maps of pool3/pool4/fc7."""

import keras
from keras import layers

from dl_suite.models import blocks
from dl_suite.models._registry import register_model

VGG16_CONVS = (2, 2, 3, 3, 3)


def vgg_block(x, filters, num_convs, name, batch_norm):
    for j in range(num_convs):
        x = blocks.conv_bn_act(x, filters, 3, f"{name}_conv{j + 1}", batch_norm=batch_norm)
    return x


@register_model("fcn", multiple=32, tiny=dict(base_filters=4),
                description="FCN-8s: VGG16-style encoder, transposed-convolution upsampling "
                            "with summed pool3/pool4 skips")
def build_fcn(input_shape, num_classes=1, *, base_filters=64, dropout_rate=0.5,
              batch_norm=False, last_activation=None):
    """Builds FCN-8s.

    Args:
        base_filters: VGG widths base_filters * (1, 2, 4, 8, 8) (64 is VGG16); the fc6/fc7
            convolutions have base_filters * 64 filters (4096 for 64).
        dropout_rate: dropout after fc6 and fc7.

    Returns:
        A `keras.Model` with output "main".
    """
    blocks.check_positive(base_filters, "base_filters")
    blocks.check_input_shape(input_shape, 32, "fcn")
    dropout_rate = blocks.check_rate(dropout_rate)
    channels, act = blocks.resolve_head(num_classes, last_activation, "fcn")
    inputs = keras.Input(tuple(input_shape), name="image")
    x, pools = inputs, []
    for i, n in enumerate(VGG16_CONVS):
        x = vgg_block(x, base_filters * min(2 ** i, 8), n, f"enc{i + 1}", batch_norm)
        x = layers.MaxPooling2D(2, name=f"enc{i + 1}_pool")(x)
        pools.append(x)
    for name, k in (("fc6", 7), ("fc7", 1)):
        x = layers.Conv2D(base_filters * 64, k, padding="same", activation="relu", name=name)(x)
        if dropout_rate:
            x = layers.Dropout(dropout_rate, name=f"{name}_drop")(x)
    score = layers.Conv2D(channels, 1, name="score_fc7")(x)
    for i, pool in ((4, pools[3]), (3, pools[2])):
        score = layers.Conv2DTranspose(channels, 4, strides=2, padding="same", use_bias=False,
                                       name=f"up_to_pool{i}")(score)
        skip = layers.Conv2D(channels, 1, name=f"score_pool{i}")(pool)
        score = layers.Add(name=f"fuse_pool{i}")([score, skip])
    score = layers.Conv2DTranspose(channels, 16, strides=8, padding="same", use_bias=False,
                                   name="main_logits")(score)
    outputs = layers.Activation(act, dtype="float32", name="main")(score)
    return keras.Model(inputs, outputs, name="fcn")
