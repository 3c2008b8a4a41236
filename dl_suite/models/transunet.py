"""TransUNet (Chen et al., 2021): CNN + ViT encoder, cascaded-upsampling decoder."""

import logging
import math

import keras
from keras import layers

from dl_suite.models import blocks
from dl_suite.models._registry import register_model
from dl_suite.models.backbones import basic_block
from dl_suite.models.layers import PositionEmbedding

logger = logging.getLogger(__name__)


def transformer_layer(x, num_heads, mlp_dim, dropout_rate, name):
    """Pre-norm ViT encoder layer on (B, N, D) tokens."""
    dim = int(x.shape[-1])
    y = layers.LayerNormalization(epsilon=1e-6, name=f"{name}_norm1")(x)
    y = layers.MultiHeadAttention(num_heads, dim // num_heads, dropout=dropout_rate,
                                  name=f"{name}_attn")(y, y)
    x = layers.Add(name=f"{name}_add1")([x, y])
    y = layers.LayerNormalization(epsilon=1e-6, name=f"{name}_norm2")(x)
    y = layers.Dense(mlp_dim, activation="gelu", name=f"{name}_mlp1")(y)
    y = layers.Dropout(dropout_rate, name=f"{name}_drop")(y)
    y = layers.Dense(dim, name=f"{name}_mlp2")(y)
    return layers.Add(name=f"{name}_add2")([x, y])


def _patch(patch_size):
    p = blocks.as_pair(patch_size, "patch_size")
    if p[0] != p[1] or p[0] < 2 or p[0] & (p[0] - 1):
        raise blocks.ModelConfigError(f"Received `patch_size={patch_size!r}`, expected one power of two "
                         ">= 2 for height and width, e.g. 16.")
    return p[0]


@register_model("transunet", aliases=("TensorflowTransUNet",),
                multiple=lambda patch_size=16, **_: _patch(patch_size),
                tiny=dict(base_filters=4, patch_size=8, hidden_size=16, num_heads=2,
                          mlp_dim=32, num_transformer=2, decoder_channels=(16, 8, 4)),
                description="TransUNet: CNN stem (hybrid) + ViT on patch tokens, "
                            "cascaded upsampling decoder with CNN skips")
def build_transunet(input_shape, num_classes=1, *, base_filters=16, patch_size=16, hybrid=True,
                    grid=None, hidden_size=768, num_heads=12, mlp_dim=3072, num_transformer=12,
                    decoder_channels=(256, 128, 64, 16), num_skip=3, dropout_rate=0.1,
                    batch_norm=True, last_activation=None, final_activation=None,
                    pretrain=False, freeze_enc_cnn=False):
    """Builds TransUNet.

    Args:
        patch_size: token stride P (power of two); the token grid is (H/P, W/P).
        hybrid: tokens come from a ResNet-style CNN at stride P (with skips at P/2, P/4, ...)
            instead of a P x P patch embedding.
        grid: legacy key; the grid is derived from the image size, a mismatch is logged.
        hidden_size, num_heads, mlp_dim, num_transformer: ViT width, heads, MLP, layers.
        decoder_channels: one width per x2 upsampling, log2(P) entries.
        num_skip: how many CNN skips the decoder uses (hybrid only).
        final_activation: legacy synonym of last_activation.
        pretrain: must be False (nothing is downloaded).
        freeze_enc_cnn: freeze the CNN stem; only meaningful with pretrained weights, so it
            is ignored (with a log message) when training from scratch.

    Returns:
        A `keras.Model` with output "main".
    """
    if pretrain:
        raise blocks.ModelConfigError("Received `pretrain=True`, but dl-suite never downloads weights. "
                         "To fix, set pretrain = False (train from scratch) or load a trained "
                         "dl-suite model.")
    p = _patch(patch_size)
    ups = int(math.log2(p))
    decoder_channels = blocks.as_list(decoder_channels, ups, "decoder_channels")
    for key, value in (("hidden_size", hidden_size), ("num_heads", num_heads),
                       ("mlp_dim", mlp_dim), ("num_transformer", num_transformer),
                       ("base_filters", base_filters)):
        blocks.check_positive(value, key)
    if hidden_size % num_heads:
        raise blocks.ModelConfigError(f"Received hidden_size={hidden_size} and num_heads={num_heads}; "
                         "hidden_size must be divisible by num_heads.")
    blocks.check_input_shape(input_shape, p, "transunet")
    dropout_rate = blocks.check_rate(dropout_rate)
    grid_now = (input_shape[0] // p, input_shape[1] // p)
    if grid is not None and tuple(grid) != grid_now:
        logger.warning("TransUNet grid=%s ignored: %dx%d images with patch_size=%d give a %s "
                       "token grid.", tuple(grid), input_shape[0], input_shape[1], p, grid_now)
    if freeze_enc_cnn:
        logger.info("freeze_enc_cnn ignored: the CNN encoder is trained from scratch.")
    channels, act = blocks.resolve_head(num_classes, last_activation or final_activation,
                                        "transunet")
    kw = dict(batch_norm=batch_norm)
    inputs = keras.Input(tuple(input_shape), name="image")
    skips = []
    if hybrid:
        x = blocks.conv_bn_act(inputs, base_filters, 3, "enc_cnn_stem", strides=2, **kw)
        skips.append(x)
        for s in range(1, ups):
            x = basic_block(x, base_filters * 2 ** s, f"enc_cnn{s}", strides=2, **kw)
            skips.append(x)
        skips = skips[:-1][::-1][:num_skip]  # stride P/2, P/4, ...
        x = layers.Conv2D(hidden_size, 1, name="enc_patch_embed")(x)
    else:
        x = layers.Conv2D(hidden_size, p, strides=p, name="enc_patch_embed")(inputs)
    x = layers.Reshape((grid_now[0] * grid_now[1], hidden_size), name="enc_tokens")(x)
    x = PositionEmbedding(name="enc_pos_embed")(x)
    x = layers.Dropout(dropout_rate, name="enc_drop")(x)
    for i in range(num_transformer):
        x = transformer_layer(x, num_heads, mlp_dim, dropout_rate, f"enc_vit{i}")
    x = layers.LayerNormalization(epsilon=1e-6, name="enc_vit_norm")(x)
    x = layers.Reshape((*grid_now, hidden_size), name="enc_grid")(x)
    x = blocks.conv_bn_act(x, decoder_channels[0] * 2, 3, "dec_conv_more", **kw)
    for i, f in enumerate(decoder_channels):
        x = layers.UpSampling2D(2, interpolation="bilinear", name=f"dec{i}_up")(x)
        if i < len(skips):
            x = layers.Concatenate(name=f"dec{i}_concat")([x, skips[i]])
        x = blocks.conv_bn_act(x, f, 3, f"dec{i}_conv1", **kw)
        x = blocks.conv_bn_act(x, f, 3, f"dec{i}_conv2", **kw)
    return keras.Model(inputs, blocks.output_head(x, channels, act), name="transunet")
