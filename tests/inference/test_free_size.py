"""Inference-time models: free spatial size, measured receptive field, [tiledinfer] options."""

import numpy as np
import pytest

from dl_suite.inference.free_size import (
    free_spatial_model,
    measure_receptive_radius,
    spatial_size,
)
from dl_suite.inference.predictors import keras_predictor

UNET = {"base_filters": 4, "num_layers": 2}


def tiny_unet(size=32):
    import keras

    from dl_suite.models import build_model

    keras.utils.set_random_seed(1)
    return build_model("unet", (size, size, 1), 1, **UNET)


def test_unet_is_rebuilt_with_free_size_and_same_weights():
    from dl_suite.models import build_model

    model = tiny_unet()
    free, reason = free_spatial_model(model, input_multiple=4)
    assert reason is None and spatial_size(model) == (32, 32) and spatial_size(free) is None
    image = np.random.default_rng(0).random((1, 48, 64, 1), dtype=np.float32)
    reference = build_model("unet", (48, 64, 1), 1, **UNET)  # built for that size
    reference.set_weights(model.get_weights())
    np.testing.assert_allclose(free.predict_on_batch(image), reference.predict_on_batch(image),
                               atol=1e-6)


def test_model_that_needs_its_size_keeps_it_with_a_reason():
    import keras

    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Flatten()(inputs)
    x = keras.layers.Dense(64)(x)
    model = keras.Model(inputs, keras.layers.Reshape((8, 8, 1))(x))
    same, reason = free_spatial_model(model)
    assert same is model and "training size" in reason


@pytest.mark.parametrize("dilation, expected", [(1, 2), (2, 3)])
def test_measured_radius_of_known_convolutions(dilation, expected):
    import keras

    inputs = keras.Input((None, None, 1))
    x = keras.layers.Conv2D(2, 3, padding="same", kernel_initializer="ones")(inputs)
    x = keras.layers.Conv2D(1, 3, padding="same", dilation_rate=(dilation, 1),
                            kernel_initializer="ones")(x)
    # radius: 1 + dilation rows, 2 columns -> Chebyshev max
    radius = measure_receptive_radius(keras_predictor(keras.Model(inputs, x)), 1)
    assert radius == max(1 + dilation, 2) == expected


def _cfgs(tmp_path, **tiled):
    from dl_suite.config import config_from_dict

    cfg = config_from_dict({"tiledinfer": tiled}, base_dir=tmp_path)
    run_cfg = config_from_dict({"model": {"name": "unet", "image_channels": 1, **UNET}},
                               base_dir=tmp_path)
    return cfg, run_cfg


def test_options_use_tile_size_measured_halo_and_no_cap(tmp_path):
    from dl_suite.workflows.infer import inference_options, prepare_inference

    model = tiny_unet()
    cfg, run_cfg = _cfgs(tmp_path, tile_size=96, max_halo=None)
    free, options = prepare_inference(cfg, run_cfg, tmp_path, model)
    from dl_suite.models import input_multiple

    m = input_multiple("unet", **UNET)
    radius = measure_receptive_radius(keras_predictor(free), 1, input_multiple=m)
    assert 4 < radius < 40
    assert spatial_size(free) is None and list(options.tile_size) == [96, 96]
    assert options.halo == (-(-radius // m) * m,) * 2  # uncapped, on the pooling grid
    capped = inference_options(_cfgs(tmp_path, max_halo=4)[0], run_cfg, tmp_path, free,
                               receptive_radius=radius)
    assert capped.halo == (-(-4 // m) * m,) * 2 and capped.tile_size in (1024, [1024, 1024])
    # a fixed-size model is tiled at its size; max_halo = null no longer raises
    fixed = inference_options(cfg, run_cfg, tmp_path, model, receptive_radius=radius)
    assert fixed.tile_size == (32, 32) and fixed.halo[0] <= (32 - fixed.overlap) // 2


def test_enabled_false_predicts_the_whole_frame_in_one_pass(tmp_path):
    import tifffile

    from dl_suite.inference.batch import InferenceOptions, infer_file, options_from_config
    from dl_suite.config import schema

    defaults = schema.defaults()
    options = options_from_config(dict(defaults["tiledinfer"], enabled=False, tile_size=16,
                                       progress=False), defaults["segmentation"], input_multiple=8)
    assert options.whole_image
    image = np.arange(30 * 45, dtype=np.float32).reshape(30, 45)
    tifffile.imwrite(tmp_path / "x.tif", image)
    shapes = []

    def mean_predictor(batch):  # not translation invariant: tiles would give different means
        shapes.append(batch.shape)
        return np.broadcast_to(batch.mean(axis=(1, 2, 3), keepdims=True), batch.shape).copy()

    written = infer_file(tmp_path / "x.tif", tmp_path / "o", mean_predictor,
                         InferenceOptions(whole_image=True, input_multiple=8, progress=False,
                                          outputs=("probability",)))
    padded = np.pad(image, ((0, 2), (0, 3)), mode="reflect")  # to multiples of 8
    assert shapes == [(1, 32, 48, 1)]
    np.testing.assert_allclose(tifffile.imread(written["probability"]), padded.mean(), rtol=1e-6)
    tiled = infer_file(tmp_path / "x.tif", tmp_path / "t", mean_predictor,
                       InferenceOptions(tile_size=16, halo=0, overlap=0, input_multiple=8,
                                        progress=False, outputs=("probability",)))
    assert np.ptp(tifffile.imread(tiled["probability"])) > 100  # tiles differ: the test can fail


def test_tile_normalizer_matches_run_normalisation():
    from dl_suite.data.normalization import normalize
    from dl_suite.inference.normalize import TileNormalizer, strided_sample

    rng = np.random.default_rng(0)
    image = rng.integers(0, 4000, (60, 70, 1)).astype(np.uint16)
    for method in ("percentile", "minmax", "zscore", "mean", "median", "div255"):
        view = TileNormalizer(method).view(image)
        np.testing.assert_allclose(view[:, :], normalize(image, method), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(view[10:20, 5:9], normalize(image, method)[10:20, 5:9],
                                   rtol=1e-5, atol=1e-5)
    big = np.tile(image, (40, 30, 1))  # 2400 x 2100 = 5.04 M px > 4 M: every 2nd row/col
    assert strided_sample(big).shape == (1200, 1050, 1)
    lo, scale = TileNormalizer("percentile").fit(big)
    hi = lo + 1 / scale
    exact = np.percentile(big, [1.0, 99.8])
    assert abs(lo - exact[0]) < 40 and abs(hi - exact[1]) < 40  # within 1 % of the range
