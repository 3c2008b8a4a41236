"""Analytic forward FLOPs of a built model (backend-agnostic, no tracing).

Method: for every call of a Conv2D / SeparableConv2D / DepthwiseConv2D / Conv2DTranspose /
Dense / ConvLSTM2D / MultiHeadAttention / SwinTransformerBlock layer (nested models
included), multiply-accumulates are computed from the static input and output shapes of that
call; FLOPs = 2 x MACs. Batch norm, activations, pooling, resizing and additions are ignored
(a few percent for these architectures). The batch size is 1.

Video models fold the T frames of a window into the batch axis (`FoldTime`), which static
shapes do not show: their layers that run on folded frames (the encoder, and the decoder
too when every frame is predicted) are counted T times.
"""

import math

import keras


def _prod(values):
    return math.prod(int(v) for v in values)


def _shapes(node):
    ins = [t.shape for t in node.input_tensors]
    outs = [t.shape for t in node.output_tensors]
    return ins, outs


def _layer_macs(layer, ins, outs):
    name = type(layer).__name__
    if not ins or not outs:
        return 0
    x, y = ins[0], outs[0]
    if name == "Conv2D":
        return _prod(y[1:]) * _prod(layer.kernel_size) * int(x[-1]) // layer.groups
    if name == "Conv2DTranspose":
        return _prod(x[1:]) * _prod(layer.kernel_size) * int(y[-1])
    if name == "DepthwiseConv2D":
        return _prod(y[1:]) * _prod(layer.kernel_size)
    if name == "SeparableConv2D":
        depth = _prod(y[1:3]) * int(x[-1]) * layer.depth_multiplier * _prod(layer.kernel_size)
        return depth + _prod(y[1:]) * int(x[-1]) * layer.depth_multiplier
    if name == "Dense":
        return _prod(x[1:]) * int(y[-1])
    if name == "ConvLSTM2D":
        steps, cin = int(x[1]), int(x[-1])
        hw = _prod(y[-3:-1])
        return steps * hw * _prod(layer.kernel_size) * (cin + layer.filters) * 4 * layer.filters
    if name == "MultiHeadAttention":
        q, v = ins[0], ins[-1]
        tq, tv, d = _prod(q[1:-1]), _prod(v[1:-1]), int(q[-1])
        inner = layer.num_heads * layer.key_dim
        return (tq + 2 * tv) * d * inner + 2 * tq * tv * inner + tq * inner * int(y[-1])
    if name == "SwinTransformerBlock":
        tokens, dim = _prod(x[1:3]), int(x[-1])
        n = layer.window_size ** 2
        return tokens * (4 * dim * dim + 2 * dim * layer.num_mlp + 2 * n * dim)
    return 0


def _frames(model, layer):
    """How many folded frames a layer of a video model processes per sample."""
    if len(model.inputs[0].shape) != 5 or type(layer).__name__ == "ConvLSTM2D":
        return 1
    t = int(model.inputs[0].shape[1])
    all_frames = len(model.outputs[0].shape) == 5
    if layer.name.startswith(("enc", "encoder", "frames", "temporal_reduce")) or (
            all_frames and not layer.name.startswith(("skip", "temporal"))):
        return t
    return 1


def count_macs(model):
    """Multiply-accumulates of one forward pass (batch 1) of a built functional model."""
    total = 0
    for layer in model.layers:
        frames = _frames(model, layer)
        if isinstance(layer, keras.Model):
            total += frames * count_macs(layer) * max(1, len(layer._inbound_nodes))
            continue
        for node in layer._inbound_nodes:
            ins, outs = _shapes(node)
            total += frames * _layer_macs(layer, ins, outs)
    return total


def count_gflops(model):
    """Forward GFLOPs (2 x MACs / 1e9) of one sample."""
    return 2.0 * count_macs(model) / 1e9
