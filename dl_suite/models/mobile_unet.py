"""MobileNetV2-encoder U-Nets with separable-convolution decoders (image and ConvLSTM video)."""

import keras
from keras import layers

from dl_suite.models import blocks
from dl_suite.models._registry import register_model
from dl_suite.models.backbones import application_encoder
from dl_suite.models.layers import FoldTime, SelectFrame, UnfoldTime


def separable_block(x, filters, name, *, dropout_rate, batch_norm, activation):
    for i in (1, 2):
        x = layers.SeparableConv2D(filters, 3, padding="same", use_bias=not batch_norm,
                                   name=f"{name}_sep{i}")(x)
        if batch_norm:
            x = layers.BatchNormalization(name=f"{name}_bn{i}")(x)
        x = layers.Activation(activation, name=f"{name}_act{i}")(x)
        if i == 1 and dropout_rate:
            x = layers.Dropout(dropout_rate, name=f"{name}_drop")(x)
    return x


def mobile_decoder(bottom, skips, base_filters, **kw):
    """Upsamples the stride-32 map through the stride-16..2 skips to full resolution."""
    x = bottom
    for level in range(4, -1, -1):  # target stride 2**level
        x = layers.UpSampling2D(2, name=f"dec{level}_up")(x)
        if level > 0:
            x = layers.Concatenate(name=f"dec{level}_concat")([x, skips[level - 1]])
        x = separable_block(x, base_filters * 2 ** level, f"dec{level}", **kw)
    return x


def _check(input_shape, mobile_alpha, model_name, ndim):
    blocks.check_input_shape(input_shape, 32, model_name, ndim=ndim)
    if mobile_alpha not in (0.35, 0.5, 0.75, 1.0, 1.3, 1.4):
        raise blocks.ModelConfigError(
            f"Received `mobile_alpha={mobile_alpha!r}`, expected one of 0.35, 0.5, 0.75, 1.0, "
            "1.3, 1.4 (MobileNetV2 width multipliers)."
        )


@register_model("mobilenet_mobileunet", multiple=32, tiny=dict(base_filters=4, mobile_alpha=0.35),
                description="U-Net with a MobileNetV2 encoder (width mobile_alpha) and a "
                            "separable-convolution decoder")
def build_mobilenet_mobileunet(input_shape, num_classes=1, *, base_filters=16,
                               mobile_alpha=1.0, weights=None, dropout_rate=0.05,
                               batch_norm=True, activation="relu", last_activation=None):
    """Builds a MobileNetV2 U-Net (encoder layer "encoder", frozen by freeze_encoder).

    Args:
        mobile_alpha: MobileNetV2 width multiplier.
        weights: None (from scratch) or a local MobileNetV2 weights file.

    Returns:
        A `keras.Model` with output "main".
    """
    _check(input_shape, mobile_alpha, "mobilenet_mobileunet", 3)
    blocks.check_activation(activation)
    kw = dict(dropout_rate=blocks.check_rate(dropout_rate), batch_norm=batch_norm,
              activation=activation)
    channels, act = blocks.resolve_head(num_classes, last_activation, "mobilenet_mobileunet")
    inputs = keras.Input(tuple(input_shape), name="image")
    encoder = application_encoder("MobileNetV2", input_shape, weights=weights,
                                  alpha=mobile_alpha)
    *skips, bottom = encoder(inputs)
    x = mobile_decoder(bottom, skips, base_filters, **kw)
    return keras.Model(inputs, blocks.output_head(x, channels, act), name="mobilenet_mobileunet")


def temporal_bottleneck(bottom, time_steps, filters, output_all_frames, name="temporal"):
    """ConvLSTM over the frames of the folded (B*T, h, w, c) bottleneck."""
    if bottom.shape[-1] > filters:  # MobileNetV2 ends with 1280 channels: reduce them first
        bottom = layers.Conv2D(filters, 1, name=f"{name}_reduce")(bottom)
    x = UnfoldTime(time_steps, name=f"{name}_unfold")(bottom)
    x = layers.ConvLSTM2D(filters, 3, padding="same", return_sequences=output_all_frames,
                          name=f"{name}_convlstm")(x)
    return FoldTime(name=f"{name}_fold")(x) if output_all_frames else x


def last_frame_skips(skips, time_steps):
    return [SelectFrame(-1, name=f"skip{i}_last")(UnfoldTime(time_steps, name=f"skip{i}_unfold")(s))
            for i, s in enumerate(skips)]


@register_model("mobilenet_mobileunet_lstm", multiple=32,
                tiny=dict(base_filters=4, mobile_alpha=0.35, time_windows=2,
                          output_all_frames=True, input_shape=(2, 32, 32, 3)),
                description="mobilenet_mobileunet applied to every frame of a window of "
                            "time_windows frames, ConvLSTM at the bottleneck")
def build_mobilenet_mobileunet_lstm(input_shape, num_classes=1, *, time_windows=5,
                                    base_filters=16, mobile_alpha=1.0, weights=None,
                                    dropout_rate=0.05, batch_norm=True, activation="relu",
                                    last_activation=None, output_all_frames=False):
    """Builds the video MobileNetV2 U-Net.

    Args:
        input_shape: (H, W, C) or (time_windows, H, W, C).
        time_windows: frames per sample (T).
        output_all_frames: output (B, T, H, W, K) masks of every frame instead of the mask of
            the last frame (B, H, W, K).

    Returns:
        A `keras.Model` with input (B, T, H, W, C) and output "main".
    """
    input_shape = _video_shape(input_shape, time_windows, "mobilenet_mobileunet_lstm")
    _check(input_shape, mobile_alpha, "mobilenet_mobileunet_lstm", 4)
    blocks.check_activation(activation)
    kw = dict(dropout_rate=blocks.check_rate(dropout_rate), batch_norm=batch_norm,
              activation=activation)
    channels, act = blocks.resolve_head(num_classes, last_activation,
                                        "mobilenet_mobileunet_lstm")
    t = input_shape[0]
    inputs = keras.Input(tuple(input_shape), name="video")
    frames = FoldTime(name="frames_fold")(inputs)
    encoder = application_encoder("MobileNetV2", input_shape[1:], weights=weights,
                                  alpha=mobile_alpha)
    *skips, bottom = encoder(frames)
    bottom = temporal_bottleneck(bottom, t, base_filters * 16, output_all_frames)
    if not output_all_frames:
        skips = last_frame_skips(skips, t)
    x = mobile_decoder(bottom, skips, base_filters, **kw)
    out = blocks.output_head(x, channels, act, "main_frames" if output_all_frames else "main")
    if output_all_frames:
        out = UnfoldTime(t, name="main")(out)
    return keras.Model(inputs, out, name="mobilenet_mobileunet_lstm")


def _video_shape(input_shape, time_windows, model_name):
    shape = tuple(input_shape)
    blocks.check_positive(time_windows, "time_windows")
    if len(shape) == 3:
        return (time_windows, *shape)
    if len(shape) == 4 and shape[0] != time_windows:
        raise blocks.ModelConfigError(
            f"Received input_shape={shape!r} for '{model_name}' whose first (time) axis does "
            f"not match time_windows={time_windows}. To fix, make them agree."
        )
    return shape
