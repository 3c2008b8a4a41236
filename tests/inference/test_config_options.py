from dl_suite.config import schema
from dl_suite.inference.batch import options_from_config
from dl_suite.inference.overlay import OVERLAY_STYLES
from dl_suite.inference.postprocess import INSTANCE_METHODS, THRESHOLD_METHODS
from dl_suite.inference.tiling import WINDOWS
from dl_suite.inference.tta import TTA_MODES


def test_schema_enums_equal_registry_keys():
    props = schema.section_properties()
    tiled, seg = props["tiledinfer"], props["segmentation"]
    assert sorted(tiled["window"]["enum"]) == WINDOWS.names()
    assert sorted(tiled["tta"]["enum"]) == TTA_MODES.names()
    assert sorted(seg["threshold_method"]["enum"]) == THRESHOLD_METHODS.names()
    assert sorted(seg["instance_method"]["enum"]) == INSTANCE_METHODS.names()
    assert sorted(seg["overlay_style"]["enum"]) == OVERLAY_STYLES.names()
    for key in ("overlapping", "split_size", "images_dir", "output_dir", "halo"):
        assert key in tiled
    for key in ("colorize", "black", "white", "blursize"):
        assert key in seg


def test_options_from_default_and_legacy_config():
    defaults = schema.defaults()
    opts = options_from_config(defaults["tiledinfer"], defaults["segmentation"],
                               defaults.get("infer"), input_multiple=16, num_outputs=2,
                               receptive_field=200)
    assert opts.tile_size == 1024 and opts.halo == (32, 32) and opts.overlap == 16
    assert opts.postprocess.threshold_method == "run" and opts.num_outputs == 2
    # legacy names (split_size, colorize) are folded onto canonical keys by the config loader
    legacy = dict(defaults["tiledinfer"], overlapping=64, tile_size=512, halo=[115, 115])
    seg = dict(defaults["segmentation"], overlay_style="colorize", white="green", blursize=[3, 3])
    opts = options_from_config(legacy, seg, {"threshold": 0.3})
    assert (opts.tile_size, opts.halo, opts.overlap) == (512, [115, 115], 64)
    assert opts.overlay_style == "colorize" and opts.postprocess.blursize == 3
    assert opts.postprocess.threshold == 0.3
