"""U-Net over a window of frames with a ConvLSTM bottleneck (JSON dialect `unet_lstm`)."""

import keras
from keras import layers

from dl_suite.models import blocks
from dl_suite.models._registry import register_model
from dl_suite.models.layers import FoldTime, UnfoldTime
from dl_suite.models.mobile_unet import _video_shape, last_frame_skips, temporal_bottleneck


@register_model("unet_lstm", multiple=lambda num_layers=5, **_: 2 ** (num_layers - 1),
                tiny=dict(base_filters=4, num_layers=3, time_windows=2, input_shape=(2, 32, 32, 3)),
                description="U-Net applied to every frame of a window, ConvLSTM bottleneck; "
                            "mask of the last frame or of every frame")
def build_unet_lstm(input_shape, num_classes=1, *, time_windows=5, num_layers=5,
                    base_filters=16, base_kernels=(3, 3), dilation=(1, 1), dropout_rate=0.05,
                    batch_norm=True, activation="relu", last_activation=None,
                    kernel_initializer="he_normal", padding="same", output_all_frames=False):
    """Builds the video U-Net.

    Args:
        input_shape: (H, W, C) or (time_windows, H, W, C); H, W multiples of
            2**(num_layers - 1).
        num_layers: levels including the bottleneck (where the ConvLSTM runs).
        output_all_frames: (B, T, H, W, K) output instead of the last frame's (B, H, W, K).

    Returns:
        A `keras.Model` with input (B, T, H, W, C) and output "main".
    """
    blocks.check_padding(padding)
    input_shape = _video_shape(input_shape, time_windows, "unet_lstm")
    blocks.check_positive(num_layers, "num_layers", minimum=2)
    blocks.check_positive(base_filters, "base_filters")
    blocks.check_input_shape(input_shape, 2 ** (num_layers - 1), "unet_lstm", ndim=4)
    blocks.check_activation(activation)
    kw = dict(kernel_size=blocks.as_pair(base_kernels, "base_kernels"),
              dilation=blocks.as_pair(dilation, "dilation"),
              dropout_rate=blocks.check_rate(dropout_rate), batch_norm=batch_norm,
              activation=activation, kernel_initializer=kernel_initializer)
    channels, act = blocks.resolve_head(num_classes, last_activation, "unet_lstm")
    t = input_shape[0]
    inputs = keras.Input(tuple(input_shape), name="video")
    x, skips = FoldTime(name="frames_fold")(inputs), []
    for i in range(num_layers - 1):
        if i:
            x = layers.MaxPooling2D(2, name=f"enc{i}_pool")(x)
        x = blocks.double_conv(x, base_filters * 2 ** i, f"enc{i}", **kw)
        skips.append(x)
    x = layers.MaxPooling2D(2, name=f"enc{num_layers - 1}_pool")(x)
    x = temporal_bottleneck(x, t, base_filters * 2 ** (num_layers - 1), output_all_frames)
    if not output_all_frames:
        skips = last_frame_skips(skips, t)
    for i in range(num_layers - 2, -1, -1):
        f = base_filters * 2 ** i
        x = layers.Conv2DTranspose(f, 2, strides=2, padding="same", name=f"dec{i}_up")(x)
        x = layers.Concatenate(name=f"dec{i}_concat")([x, skips[i]])
        x = blocks.double_conv(x, f, f"dec{i}", **kw)
    out = blocks.output_head(x, channels, act, "main_frames" if output_all_frames else "main")
    if output_all_frames:
        out = UnfoldTime(t, name="main")(out)
    return keras.Model(inputs, out, name="unet_lstm")
