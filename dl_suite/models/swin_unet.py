"""Swin-UNet (Cao et al., 2021): shifted-window transformer encoder/decoder with patch
merging and patch expanding."""

import math

import keras
from keras import layers

from dl_suite.models import blocks
from dl_suite.models._registry import register_model
from dl_suite.models.layers import PositionEmbedding, SwinTransformerBlock


def patch_merging(x, name):
    """(H, W, C) -> (H/2, W/2, 2C): concatenate 2x2 neighbours, LayerNorm, linear."""
    h, w = blocks.spatial(x)
    c = int(x.shape[-1])
    x = layers.Reshape((h // 2, 2, w // 2, 2, c), name=f"{name}_split")(x)
    x = layers.Permute((1, 3, 2, 4, 5), name=f"{name}_permute")(x)
    x = layers.Reshape((h // 2, w // 2, 4 * c), name=f"{name}_merge")(x)
    x = layers.LayerNormalization(epsilon=1e-5, name=f"{name}_norm")(x)
    return layers.Dense(2 * c, use_bias=False, name=f"{name}_reduce")(x)


def patch_expanding(x, factor, out_channels, name):
    """(H, W, C) -> (factor*H, factor*W, out_channels): linear, then depth-to-space."""
    h, w = blocks.spatial(x)
    x = layers.Dense(factor * factor * out_channels, use_bias=False, name=f"{name}_expand")(x)
    x = layers.Reshape((h, w, factor, factor, out_channels), name=f"{name}_split")(x)
    x = layers.Permute((1, 3, 2, 4, 5), name=f"{name}_permute")(x)
    x = layers.Reshape((h * factor, w * factor, out_channels), name=f"{name}_merge")(x)
    return layers.LayerNormalization(epsilon=1e-5, name=f"{name}_norm")(x)


def _settings(depth, patch_size, num_heads, window_size):
    p = blocks.as_pair(patch_size, "patch_size")
    if p[0] != p[1] or p[0] & (p[0] - 1):
        raise blocks.ModelConfigError(f"Received `patch_size={patch_size!r}`, expected equal height and "
                         "width that are a power of two, e.g. (4, 4).")
    heads = blocks.as_list(num_heads, depth, "num_heads")
    windows = blocks.as_list(window_size, depth, "window_size")
    return p[0], heads, windows


def _multiple(depth=4, patch_size=(4, 4), window_size=(4, 2, 2, 2), num_heads=8, **_):
    p, _, windows = _settings(depth, patch_size, num_heads, window_size)
    return math.lcm(*[p * 2 ** i * w for i, w in enumerate(windows)])


@register_model("swin_unet", aliases=("TensorflowSwinUNet",), multiple=_multiple,
                tiny=dict(filter_num_begin=8, depth=3, stack_num_down=2, stack_num_up=1,
                          patch_size=(2, 2), num_heads=(2, 2, 2), window_size=(2, 2, 2),
                          num_mlp=16),
                description="Swin-UNet: shifted-window transformer U-Net with patch merging "
                            "and patch expanding")
def build_swin_unet(input_shape, num_classes=1, *, filter_num_begin=128, embed_dim=None,
                    depth=4, stack_num_down=2, stack_num_up=2, patch_size=(4, 4),
                    num_heads=(4, 8, 8, 8), window_size=(4, 2, 2, 2), num_mlp=512,
                    shift_window=True, dropout_rate=0.0, last_activation=None):
    """Builds a Swin-UNet.

    Args:
        filter_num_begin: embedding width of the first level (doubles per level);
            `embed_dim`, when set, overrides it.
        depth: levels (depth - 1 patch mergings).
        stack_num_down, stack_num_up: Swin blocks per encoder / decoder level.
        patch_size: square patch (power of two) embedded by a strided convolution.
        num_heads, window_size: per level (a number applies to all levels).
        num_mlp: MLP width in every block.
        shift_window: alternate W-MSA and shifted SW-MSA blocks.

    Returns:
        A `keras.Model` with output "main".
    """
    embed = embed_dim or filter_num_begin
    blocks.check_positive(embed, "filter_num_begin")
    blocks.check_positive(depth, "depth")
    blocks.check_positive(stack_num_down, "stack_num_down")
    blocks.check_positive(stack_num_up, "stack_num_up", minimum=0)
    blocks.check_positive(num_mlp, "num_mlp")
    p, heads, windows = _settings(depth, patch_size, num_heads, window_size)
    blocks.check_input_shape(input_shape, _multiple(depth, patch_size, window_size, num_heads),
                             "swin_unet")
    dropout_rate = blocks.check_rate(dropout_rate)
    for i, h in enumerate(heads):
        if (embed * 2 ** i) % h:
            raise blocks.ModelConfigError(f"Level {i} has {embed * 2 ** i} channels, not divisible by "
                             f"num_heads[{i}]={h}. To fix, change filter_num_begin or num_heads.")
    channels, act = blocks.resolve_head(num_classes, last_activation, "swin_unet")

    def swin_stack(x, level, count, prefix):
        grid = min(blocks.spatial(x))
        window = windows[level]
        for j in range(count):
            shift = window // 2 if shift_window and j % 2 and grid > window else 0
            x = SwinTransformerBlock(heads[level], window, shift, num_mlp, dropout_rate,
                                     name=f"{prefix}{level}_swin{j}")(x)
        return x

    inputs = keras.Input(tuple(input_shape), name="image")
    x = layers.Conv2D(embed, p, strides=p, name="enc_patch_embed")(inputs)
    x = PositionEmbedding(name="enc_pos_embed")(x)
    skips = []
    for i in range(depth):
        x = swin_stack(x, i, stack_num_down, "enc")
        skips.append(x)
        if i < depth - 1:
            x = patch_merging(x, f"enc{i}_merge")
    for i in range(depth - 2, -1, -1):
        c = embed * 2 ** i
        x = patch_expanding(x, 2, c, f"dec{i}_expand")
        x = layers.Concatenate(name=f"dec{i}_concat")([x, skips[i]])
        x = layers.Dense(c, use_bias=False, name=f"dec{i}_proj")(x)
        x = swin_stack(x, i, stack_num_up, "dec")
    x = patch_expanding(x, p, embed, "dec_final_expand")
    return keras.Model(inputs, blocks.output_head(x, channels, act), name="swin_unet")
