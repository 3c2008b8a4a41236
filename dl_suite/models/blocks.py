"""Building blocks shared by the model builders (functional-graph helpers, no custom state)."""

import logging

import keras
from keras import layers

from dl_suite.errors import UserError

logger = logging.getLogger(__name__)



class ModelConfigError(UserError, ValueError):
    """A model config value is invalid (a `ValueError` the CLI reports without traceback)."""


# Final activations that make sense for one output channel / for several classes.
_COMPATIBLE = {
    "single": ("sigmoid", "linear"),
    "multi": ("softmax", "sigmoid", "linear"),
}


def as_pair(value, key):
    """Returns `value` as a tuple of two positive ints (accepts an int or a pair)."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value, value)
    try:
        pair = tuple(int(v) for v in value)
    except (TypeError, ValueError):
        pair = ()
    if len(pair) != 2 or min(pair) < 1:
        raise ModelConfigError(
            f"Received `{key}={value!r}`, expected a positive int or a pair of positive ints "
            f"such as [3, 3]. To fix, set `{key}` in the [model] section to e.g. [3, 3]."
        )
    return pair


def as_list(value, length, key):
    """Returns `value` (scalar or sequence) as a list of `length` ints."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [int(value)] * length
    value = list(value)
    if len(value) < length:
        raise ModelConfigError(
            f"Received `{key}={value!r}` with {len(value)} entries, expected one entry per "
            f"level ({length}). To fix, give {length} values or a single number."
        )
    return [int(v) for v in value[:length]]


def check_activation(name, key="activation"):
    """Raises a clear error when `name` is not a Keras activation."""
    try:
        keras.activations.get(name)
    except (ValueError, TypeError):
        raise ModelConfigError(
            f"Received `{key}={name!r}`, which is not a Keras activation. Expected one of "
            "relu, elu, selu, gelu, swish, leaky_relu, tanh, sigmoid."
        ) from None
    return name


def check_positive(value, key, minimum=1):
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ModelConfigError(
            f"Received `{key}={value!r}`, expected an integer >= {minimum}. "
            f"To fix, set `{key}` in the [model] section accordingly."
        )
    return value


def check_rate(value, key="dropout_rate"):
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value < 1:
        raise ModelConfigError(
            f"Received `{key}={value!r}`, expected a number in [0, 1), e.g. 0.05."
        )
    return float(value)


def check_padding(padding):
    if padding != "same":
        raise ModelConfigError(
            f"Received `padding={padding!r}`. dl-suite models keep the image size through "
            "the network, so only `padding='same'` is supported. To fix, set padding = 'same'."
        )


def check_input_shape(input_shape, multiple, model_name, ndim=3):
    """Validates (H, W, C) (or (T, H, W, C) when ndim=4) against the model's stride.

    Raises:
        ValueError: naming the valid sizes when H or W is not a multiple of `multiple`.
    """
    shape = tuple(input_shape)
    if len(shape) != ndim or any(not isinstance(s, int) or s < 1 for s in shape):
        want = "(time_windows, height, width, channels)" if ndim == 4 else "(height, width, channels)"
        raise ModelConfigError(
            f"Received input_shape={shape!r} for model '{model_name}', expected {want} "
            "with positive integers."
        )
    height, width = shape[-3], shape[-2]
    bad = [f"{k}={v}" for k, v in (("image_height", height), ("image_width", width)) if v % multiple]
    if bad:
        wrong = [v for v in (height, width) if v % multiple]
        examples = sorted({max(multiple, (v // multiple) * multiple) for v in wrong}
                          | {((v // multiple) + 1) * multiple for v in wrong})
        raise ModelConfigError(
            f"Received {', '.join(bad)} for model '{model_name}', but its height and width "
            f"must be multiples of {multiple} (valid sizes near yours: "
            f"{', '.join(map(str, examples))}). To fix, set image_height/image_width to such a "
            "size; inference pads images to a valid size automatically."
        )
    return shape


def resolve_head(num_classes, last_activation, model_name, categorical=False):
    """Returns (channels, activation) of the output layer.

    One class gives one sigmoid channel, several classes a softmax over `num_classes`
    channels. An explicit `last_activation` is honoured when it fits (sigmoid/linear for one
    channel; softmax, sigmoid (multi-label) or linear for several); anything else (e.g. the
    legacy JSON 'tanh') is replaced by the default with a warning.
    """
    check_positive(num_classes, "num_classes")
    if categorical and num_classes < 2:
        logger.warning(
            "Model '%s' is categorical (softmax over classes) but num_classes=%d; using 2 "
            "classes (background, foreground). Set num_classes >= 2 to silence this.",
            model_name, num_classes,
        )
        num_classes = 2
    kind = "single" if num_classes == 1 else "multi"
    default = "sigmoid" if kind == "single" else "softmax"
    if last_activation in (None, "", "auto", "none", "None"):
        return num_classes, default
    if last_activation in _COMPATIBLE[kind]:
        return num_classes, last_activation
    logger.warning(
        "last_activation=%r does not fit %d output class(es) of model '%s'; using %r. "
        "Compatible choices: %s.",
        last_activation, num_classes, model_name, default, ", ".join(_COMPATIBLE[kind]),
    )
    return num_classes, default


def output_head(x, channels, activation, name="main", upsample=1):
    """1x1 convolution to `channels`, optional bilinear upsampling, float32 activation."""
    x = layers.Conv2D(channels, 1, name=f"{name}_logits")(x)
    if upsample > 1:
        x = layers.UpSampling2D(upsample, interpolation="bilinear", name=f"{name}_up")(x)
    return layers.Activation(activation, dtype="float32", name=name)(x)


def conv_bn_act(x, filters, kernel_size, name, *, strides=1, dilation=1, batch_norm=True,
                activation="relu", kernel_initializer="he_normal", use_act=True):
    """Conv2D -> (BatchNorm) -> activation, with layers named `{name}_conv/_bn/_act`."""
    x = layers.Conv2D(
        filters, kernel_size, strides=strides, dilation_rate=dilation, padding="same",
        use_bias=not batch_norm, kernel_initializer=kernel_initializer, name=f"{name}_conv",
    )(x)
    if batch_norm:
        x = layers.BatchNormalization(name=f"{name}_bn")(x)
    if use_act:
        x = layers.Activation(activation, name=f"{name}_act")(x)
    return x


def double_conv(x, filters, name, *, kernel_size=3, dilation=1, dropout_rate=0.0,
                batch_norm=True, activation="relu", kernel_initializer="he_normal"):
    """Two conv_bn_act with dropout between them (the classic U-Net stage)."""
    x = conv_bn_act(x, filters, kernel_size, f"{name}_conv1", dilation=dilation,
                    batch_norm=batch_norm, activation=activation,
                    kernel_initializer=kernel_initializer)
    if dropout_rate > 0:
        x = layers.Dropout(dropout_rate, name=f"{name}_drop")(x)
    return conv_bn_act(x, filters, kernel_size, f"{name}_conv2", dilation=dilation,
                       batch_norm=batch_norm, activation=activation,
                       kernel_initializer=kernel_initializer)


def resize_to(x, size, name, interpolation="bilinear"):
    """Resizes a feature map to a static (height, width)."""
    return layers.Resizing(size[0], size[1], interpolation=interpolation, name=name)(x)


def spatial(x):
    """Static (height, width) of a 4D tensor."""
    return int(x.shape[1]), int(x.shape[2])
