import logging

import numpy as np
import pytest

from dl_suite.errors import DataError
from dl_suite.inference.oom import BatchSizeController, is_out_of_memory
from dl_suite.inference.tiling import (
    WINDOWS,
    default_halo,
    extract_tile,
    iter_image_tiles,
    iter_tiles,
    plan_axis,
    predict_stack,
    predict_tiled,
    to_frames,
    unet_receptive_field,
)
from dl_suite.registry import UnknownNameError


def identity(batch):
    return batch.copy()


@pytest.mark.parametrize("shape", [(64, 64), (100, 37), (1, 5), (130, 257, 3), (256, 96, 2)])
@pytest.mark.parametrize("window", ["linear", "gaussian"])
def test_identity_reconstructs_input_exactly(shape, window):
    rng = np.random.default_rng(0)
    image = rng.normal(size=shape).astype(np.float32)
    out = predict_tiled(
        image, identity, tile_size=48, halo=8, overlap=8, batch_size=3, window=window,
        input_multiple=8, progress=False,
    )
    expected = image if image.ndim == 3 else image[..., None]
    assert out.dtype == np.float32
    assert np.array_equal(out, expected)


@pytest.mark.parametrize("tta", ["none", "flips", "dihedral"])
def test_identity_with_tta_and_writable_out(tta):
    image = np.arange(70 * 90, dtype=np.float32).reshape(70, 90)
    out = np.zeros((70, 90, 1), np.float32)
    result = predict_tiled(
        image, identity, tile_size=32, halo=4, overlap=4, tta=tta, out=out, progress=False
    )
    assert result is out or np.shares_memory(result, out)
    np.testing.assert_allclose(out[..., 0], image, rtol=0, atol=0)


def test_tiles_cover_the_image_and_are_aligned():
    seen = np.zeros((100, 203), int)
    for info in iter_tiles((100, 203), 64, 16, 8, input_multiple=16):
        assert info.src[0].start % 16 == 0 and info.src[1].start % 16 == 0
        assert info.src[0].stop - info.src[0].start == 64
        seen[info.dst] += 1
    assert seen.min() >= 1


def test_plan_axis_small_image_shrinks_tile():
    plan = plan_axis(20, 512, 16, 8, input_multiple=16)
    assert plan.starts == (0,) and plan.core == 32 and plan.tile == 64


def test_bad_sizes_say_how_to_fix():
    with pytest.raises(ValueError, match="increase tile_size"):
        plan_axis(500, 64, 32, 8)
    with pytest.raises(UnknownNameError, match="Did you mean 'gaussian'"):
        predict_tiled(np.zeros((8, 8)), identity, tile_size=8, halo=0, overlap=0,
                      window="gausian", progress=False)


def test_predictor_changing_size_is_reported():
    with pytest.raises(ValueError, match="fully convolutional"):
        predict_tiled(np.zeros((32, 32)), lambda b: b[:, ::2], tile_size=32, halo=0,
                      overlap=0, progress=False)


def test_mirror_padding_matches_numpy_reflect():
    image = np.arange(30).reshape(5, 6)
    tile = extract_tile(image, (slice(-3, 8), slice(-4, 9)))
    np.testing.assert_array_equal(tile, np.pad(image, ((3, 3), (4, 3)), mode="reflect"))


def test_local_filter_matches_untiled_away_from_border():
    """A 'model' with a 7x7 receptive field: tiled == untiled (tiles only add mirrored halo)."""
    from scipy.ndimage import uniform_filter

    def box(batch):
        return uniform_filter(batch, size=(1, 7, 7, 1), mode="mirror")  # numpy "reflect"

    image = np.random.default_rng(1).random((150, 170)).astype(np.float32)
    tiled = predict_tiled(image, box, tile_size=48, halo=4, overlap=6, window="gaussian",
                          progress=False)
    full = box(image[None, ..., None])[0]
    np.testing.assert_allclose(tiled, full, atol=1e-5)


def test_oom_backoff_halves_batch_and_logs(caplog):
    calls = []

    def picky(batch):
        calls.append(len(batch))
        if len(batch) > 2:
            raise MemoryError("too big")
        return batch

    image = np.random.default_rng(2).random((96, 96)).astype(np.float32)
    with caplog.at_level(logging.WARNING):
        out = predict_tiled(image, picky, tile_size=32, halo=0, overlap=0, batch_size=8,
                            progress=False)
    np.testing.assert_array_equal(out[..., 0], image)
    assert max(calls[2:]) <= 2
    assert "batch_size=2" in caplog.text


def test_oom_detection_by_class_name():
    ResourceExhaustedError = type("ResourceExhaustedError", (Exception,), {})
    XlaRuntimeError = type("XlaRuntimeError", (RuntimeError,), {})
    assert is_out_of_memory(ResourceExhaustedError("x"))
    assert is_out_of_memory(XlaRuntimeError("RESOURCE_EXHAUSTED: Out of memory"))
    assert not is_out_of_memory(ValueError("x"))
    with pytest.raises(MemoryError, match="reduce `tile_size`"):
        BatchSizeController(1).run(lambda b: (_ for _ in ()).throw(MemoryError()), np.zeros((1, 4, 4, 1)))


def test_stack_frame_by_frame_with_multichannel_output():
    stack = np.random.default_rng(3).random((3, 40, 50)).astype(np.float32)

    def two_channels(batch):
        return np.concatenate([batch, 1 - batch], axis=-1)

    out = predict_stack(stack, two_channels, tile_size=32, halo=0, overlap=4, progress=False)
    assert out.shape == (3, 40, 50, 2)
    np.testing.assert_allclose(out[..., 0], stack, atol=1e-6)
    np.testing.assert_allclose(out[..., 1], 1 - stack, atol=1e-6)


def test_to_frames_and_receptive_field_helpers():
    assert to_frames(np.zeros((5, 6)), 1).shape == (1, 5, 6, 1)
    assert to_frames(np.zeros((4, 5, 6)), 1).shape == (4, 5, 6, 1)
    assert to_frames(np.zeros((5, 6, 3)), 3).shape == (1, 5, 6, 3)
    rgb = np.arange(90.0).reshape(5, 6, 3)  # one RGB image, never 5 frames of 6x3
    np.testing.assert_allclose(to_frames(rgb, 1)[0], rgb.mean(axis=-1, keepdims=True))
    assert to_frames(np.zeros((5, 6)), 3)[0].shape == (5, 6, 3)
    with pytest.raises(DataError, match="expects 1"):
        to_frames(np.zeros((5, 6, 2)), 1, axes="YXC")
    assert unet_receptive_field(1, kernel_size=3, convs_per_level=2) == 1 + 4 + 1 + 8 + 4
    assert default_halo(unet_receptive_field(4), input_multiple=16) == (112, 112)
    assert default_halo(None, input_multiple=16) == (32, 32)
    assert sorted(WINDOWS.names()) == ["gaussian", "linear"]


def test_memory_mapped_input_and_output_round_trip(tmp_path):
    import tifffile

    from dl_suite.io.large_tiff import create_output_tiff, open_image_lazy

    image = np.random.default_rng(4).random((200, 300), dtype=np.float32)
    tifffile.imwrite(tmp_path / "in.tif", image)
    lazy = open_image_lazy(tmp_path / "in.tif")
    assert isinstance(lazy, np.memmap)
    with create_output_tiff(tmp_path / "out.tif", (200, 300), np.float32, "YX") as out:
        predict_tiled(lazy, identity, tile_size=64, halo=8, overlap=8, out=out.array,
                      progress=False)
    assert np.array_equal(tifffile.imread(tmp_path / "out.tif"), image)


def test_iter_image_tiles_rebuilds_image_from_cores():
    image = np.random.default_rng(5).random((70, 90, 2)).astype(np.float32)
    rebuilt = np.zeros_like(image)
    for tile, info in iter_image_tiles(image, 48, 8, 8, input_multiple=8):
        assert tile.shape == (48, 48, 2) or tile.shape[0] < 48 or tile.shape[1] < 48
        rebuilt[info.dst] = tile[info.core]
    assert np.array_equal(rebuilt, image)
