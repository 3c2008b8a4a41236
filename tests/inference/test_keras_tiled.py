"""A real (tiny, untrained) Keras U-Net: tiled prediction equals whole-image prediction."""

import numpy as np
import pytest

from dl_suite.inference.predictors import keras_predictor
from dl_suite.inference.tiling import default_halo, predict_tiled, unet_receptive_field

keras = pytest.importorskip("keras")


def tiny_unet(num_levels=2, filters=4):
    layers = keras.layers
    inputs = keras.Input((None, None, 1))
    x, skips = inputs, []
    for level in range(num_levels):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"enc{level}_conv0")(x)
        x = layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"enc{level}_conv1")(x)
        skips.append(x)
        x = layers.MaxPooling2D(name=f"enc{level}_pool")(x)
    x = layers.Conv2D(filters, 3, padding="same", activation="relu", name="mid_conv0")(x)
    x = layers.Conv2D(filters, 3, padding="same", activation="relu", name="mid_conv1")(x)
    for level in reversed(range(num_levels)):
        x = layers.UpSampling2D(name=f"dec{level}_up")(x)
        x = layers.Concatenate(name=f"dec{level}_cat")([x, skips[level]])
        x = layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"dec{level}_conv0")(x)
        x = layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"dec{level}_conv1")(x)
    outputs = layers.Conv2D(1, 1, activation="sigmoid", name="head")(x)
    return keras.Model(inputs, outputs)


def test_tiled_matches_untiled_away_from_border():
    keras.utils.set_random_seed(0)
    model = tiny_unet()
    predictor = keras_predictor(model)
    rf = unet_receptive_field(2)
    halo = default_halo(rf, input_multiple=4)
    image = np.random.default_rng(0).random((96, 128)).astype(np.float32)
    full = predictor(image[None, ..., None])[0]
    tiled = predict_tiled(image, predictor, tile_size=112, halo=halo, overlap=8, batch_size=4,
                          input_multiple=4, window="gaussian", progress=False)
    margin = rf // 2 + 1
    inner = (slice(margin, -margin), slice(margin, -margin))
    np.testing.assert_allclose(tiled[inner], full[inner], atol=1e-5)
    assert np.abs(tiled - full).max() < 0.1  # border: mirror vs zero padding only
