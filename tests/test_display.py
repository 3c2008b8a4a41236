"""One image-to-RGB rule: previews, augmentation previews, overlays and reports agree."""

import numpy as np

from dl_suite.display import to_display_rgb


def _image():
    rng = np.random.default_rng(0)
    image = rng.normal(100.0, 10.0, (24, 20, 1)).astype(np.float32)
    image[0, 0] = 1e4  # one hot pixel: the percentile stretch ignores it
    return image


def test_stretch_values():
    image = np.arange(201, dtype=np.float32).reshape(1, 201)  # 0..200
    rgb = to_display_rgb(image, p_low=0, p_high=50)  # 0 -> 0, 100 and above -> 255
    assert rgb.shape == (1, 201, 3) and rgb.dtype == np.uint8
    assert rgb[0, 0, 0] == 0 and rgb[0, 50, 0] == 128 and rgb[0, 100:, 0].min() == 255
    assert np.array_equal(to_display_rgb(np.array([[0.0, 0.5, 1.0]]), value_range=(0, 1))[0, :, 1],
                          [0, 128, 255])
    u8 = np.array([[3, 7]], np.uint8)
    assert np.array_equal(to_display_rgb(u8)[..., 2], u8)


def test_every_display_uses_the_one_rule():
    from dl_suite.callbacks.previews import make_preview_grid
    from dl_suite.data.preview import overlay_contours
    from dl_suite.evaluation.report import overlay
    from dl_suite.inference import overlay as inference_overlay

    image = _image()
    expected = to_display_rgb(image)
    assert expected[1:, :, 0].std() > 20  # stretched by percentiles, not by the hot pixel
    grid = make_preview_grid([image], [np.zeros((24, 20, 1), np.float32)])
    assert np.array_equal(grid[:24, :20], expected)
    none = np.zeros((24, 20), bool)
    assert np.array_equal(overlay(image, none, none), expected)
    shown = overlay_contours(image, np.zeros((24, 20), np.uint8))
    assert np.array_equal(np.round(shown * 255).astype(np.uint8), expected)
    assert inference_overlay.to_display_rgb is to_display_rgb
