"""The flexible U-Net and the build_model / input_multiple contract."""

import pytest

from dl_suite.models import MODELS, build_model, compile_kwargs, input_multiple
from dl_suite.registry import UnknownNameError


def test_legacy_deepcell_unet_pools_seven_times_and_shrinks_kernels():
    assert input_multiple("TensorflowUNet", num_layers=8) == 128
    model = build_model("TensorflowUNet", (128, 128, 1), 1, num_layers=8, base_filters=1,
                        base_kernels=(9, 9), dilation=(3, 3), dropout_rate=0.06)
    convs = {l.name: l for l in model.layers if l.name.endswith("conv1_conv")}
    assert [convs[f"enc{i}_conv1_conv"].kernel_size for i in range(4)] == [
        (9, 9), (7, 7), (5, 5), (3, 3)]
    assert [convs[f"enc{i}_conv1_conv"].dilation_rate for i in range(4)] == [
        (3, 3), (2, 2), (1, 1), (1, 1)]
    assert model.get_layer("enc7_conv1_conv").output.shape[1:3] == (1, 1)
    assert model.output_shape == (None, 128, 128, 1)


def test_aliases_and_unknown_keys():
    assert MODELS.canonical("TensorflowSlightlyFlexibleUNet") == "unet"
    model = build_model("unet", (32, 32, 1), 3, num_layers=2, base_filters=2,
                        learning_rate=0.1, loss="dice", image_height=32)
    assert model.output_shape == (None, 32, 32, 3)
    assert model.get_layer("main").get_config()["activation"] == "softmax"
    with pytest.raises(UnknownNameError, match="Did you mean 'unet'"):
        build_model("unett", (32, 32, 1), 1)


def test_bad_size_names_valid_sizes():
    with pytest.raises(ValueError, match=r"multiples of 16 \(valid sizes near yours: 96, 112"):
        build_model("unet", (100, 96, 1), 1, num_layers=5, base_filters=2)


@pytest.mark.parametrize("key, value, match", [
    ("base_kernels", (3,), "base_kernels"),
    ("dropout_rate", 1.5, "dropout_rate"),
    ("activation", "relux", "activation"),
    ("padding", "valid", "padding='same'"),
    ("num_layers", 0, "num_layers"),
])
def test_bad_values_raise_clear_errors(key, value, match):
    with pytest.raises(ValueError, match=match):
        build_model("unet", (32, 32, 1), 1, **{"base_filters": 2, "num_layers": 2, key: value})


def test_last_activation_rules(caplog):
    m = build_model("unet", (32, 32, 1), 1, num_layers=2, base_filters=2, last_activation="tanh")
    assert m.get_layer("main").get_config()["activation"] == "sigmoid"
    assert "tanh" in caplog.text
    m = build_model("categorical_unet", (32, 32, 1), 1, num_layers=2, base_filters=2)
    assert m.output_shape[-1] == 2
    m = build_model("unet", (32, 32, 1), 1, num_layers=2, base_filters=2, last_activation="linear")
    assert m.get_layer("main").get_config()["activation"] == "linear"


def test_freeze_encoder_and_compile_kwargs():
    m = build_model("unet", (32, 32, 1), 1, num_layers=2, base_filters=2, freeze_encoder=True)
    assert not m.get_layer("enc0_conv1_conv").trainable
    assert m.get_layer("dec0_conv1_conv").trainable
    assert compile_kwargs(m, "bce", ["acc"]) == {"loss": "bce", "metrics": ["acc"]}


def test_batch_norm_momentum_reaches_every_layer_and_the_moving_mean():
    import keras
    import numpy as np

    m = build_model("unet", (16, 16, 1), 1, num_layers=2, base_filters=2, batch_norm_momentum=0.5)
    bns = [l for l in m.layers if isinstance(l, keras.layers.BatchNormalization)]
    assert len(bns) == 6 and {l.momentum for l in bns} == {0.5}
    assert build_model("unet", (16, 16, 1), 1, num_layers=2, base_filters=2).get_layer(
        "enc0_conv1_bn").momentum == 0.99
    # one training-mode call moves the first moving mean half-way (momentum 0.5) from 0 to
    # the batch mean of the first convolution's output
    x = np.random.default_rng(0).normal(size=(2, 16, 16, 1)).astype("float32")
    conv = keras.Model(m.input, m.get_layer("enc0_conv1_conv").output)(x)
    m(x, training=True)
    expected = 0.5 * keras.ops.convert_to_numpy(conv).mean(axis=(0, 1, 2))
    got = keras.ops.convert_to_numpy(m.get_layer("enc0_conv1_bn").moving_mean)
    np.testing.assert_allclose(got, expected, atol=1e-6)


def test_keys_the_chosen_model_drops_are_warned_about(caplog):
    # the DeepCell config's dilation, after switching model.model to attention_unet
    build_model("attention_unet", (32, 32, 1), 1, num_layers=2, base_filters=2,
                dilation=(2, 2), base_kernels=(3, 3), learning_rate=0.01)
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warned) == 1
    assert "dilation = (2, 2) (taken by categorical_unet_fc_dil, unet, unet_lstm)" in warned[0]
    assert "base_kernels" not in warned[0] and "learning_rate" not in warned[0]  # taken / not a model key
    caplog.clear()
    build_model("unet", (32, 32, 1), 1, num_layers=2, base_filters=2, dilation=(2, 2))
    build_model("attention_unet", (32, 32, 1), 1, num_layers=2, base_filters=2, dilation=[1, 1])
    assert not [r for r in caplog.records if r.levelname == "WARNING"]  # taken; the default
