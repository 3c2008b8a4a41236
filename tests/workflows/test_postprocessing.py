import pytest

from dl_suite.errors import ConfigError
from dl_suite.inference.postprocess import PostprocessOptions
from dl_suite.data.targets import uses_contour_targets as contour_target_run
from dl_suite.workflows.postprocessing import output_channels


def _run_cfg(target_type, num_classes):
    return {"generator": {"target_type": target_type}, "model": {"num_classes": num_classes}}


def test_contour_runs_take_foreground_as_one_minus_background_and_contours_from_channel_2():
    contour_run = _run_cfg("contours", 3)
    assert contour_target_run(contour_run) and contour_target_run(_run_cfg("segmentation_contours", 3))
    assert not contour_target_run(_run_cfg("segmentation", 1))
    options = output_channels(PostprocessOptions(), contour_run)
    assert (options.background_channel, options.contour_channel) == (0, 2)
    # channels the config names are kept
    named = output_channels(PostprocessOptions(foreground_channel=1, contour_channel=1), contour_run)
    assert (named.background_channel, named.contour_channel) == (None, 1)
    # other runs are left alone
    plain = output_channels(PostprocessOptions(), _run_cfg("segmentation", 2))
    assert (plain.background_channel, plain.contour_channel) == (None, None)


def test_distance_runs_take_foreground_as_one_minus_background_without_contours():
    options = output_channels(PostprocessOptions(), _run_cfg("distance", 5))
    assert (options.background_channel, options.contour_channel) == (0, None)
    # the distance split needs a distance-level run
    with pytest.raises(ConfigError, match="instance_method to 'watershed'"):
        output_channels(PostprocessOptions(instance_method="distance"), _run_cfg("contours", 3))


def _cfg(**segmentation):
    return {"segmentation": {"threshold_method": "run", **segmentation},
            "infer": {"threshold": None}, "eval": {"min_object_size": 0}}


def test_a_tuned_split_value_is_used_only_by_the_method_it_was_tuned_for(tmp_path, caplog):
    import json

    from dl_suite.workflows.postprocessing import run_postprocess

    plain = _run_cfg("segmentation", 1)
    (tmp_path / "threshold.json").write_text(json.dumps(
        {"threshold": 0.4, "min_size": 0, "instance_method": "watershed",
         "split_parameter": "min_distance", "split_value": 7}))
    segment = run_postprocess(_cfg(instance_method="watershed", min_distance=15), tmp_path,
                              run_cfg=plain)
    assert segment.options.min_distance == 7 and isinstance(segment.options.min_distance, int)
    assert segment.source["min_distance"] == "run (threshold.json)"
    # the config's own value: with threshold_method 'fixed', or an explicit eval threshold
    for cfg, threshold in ((_cfg(instance_method="watershed", min_distance=15,
                                 threshold_method="fixed"), None),
                           (_cfg(instance_method="watershed", min_distance=15), 0.5)):
        segment = run_postprocess(cfg, tmp_path, threshold=threshold, run_cfg=plain)
        assert segment.options.min_distance == 15
        assert segment.source["min_distance"] == "segmentation.min_distance"
    # a min distance means nothing to the seeded watershed: its seed threshold stays, warned
    segment = run_postprocess(_cfg(instance_method="seeded_watershed", seed_threshold=0.8),
                              tmp_path, run_cfg=plain)
    assert segment.options.seed_threshold == 0.8 and "not 'seeded_watershed'" in caplog.text
    # methods without a split parameter have no such source
    assert "min_distance" not in run_postprocess(_cfg(), tmp_path, run_cfg=plain).source
    # a seed probability tuned for the seeded watershed is not a distance level
    (tmp_path / "threshold.json").write_text(json.dumps(
        {"threshold": 0.4, "min_size": 0, "instance_method": "seeded_watershed",
         "split_parameter": "seed_threshold", "split_value": 0.95}))
    seeded = run_postprocess(_cfg(instance_method="seeded_watershed"), tmp_path, run_cfg=plain)
    assert seeded.options.seed_threshold == 0.95
    distance = run_postprocess(_cfg(instance_method="distance", seed_threshold=0.6), tmp_path,
                               run_cfg=_run_cfg("distance", 5))
    assert distance.options.seed_threshold == 0.6


@pytest.mark.parametrize("method, grid, message", [
    ("contour", [1.5], "between 0 and 1"), ("connected", [5], "has none"),
    ("watershed", [2.5], "whole numbers"), ("distance", [1.5], "between 0 and 1")])
def test_split_grids_that_cannot_apply_are_config_errors(method, grid, message):
    from dl_suite.config import config_from_dict
    from dl_suite.workflows.evaluate import _split_grid

    cfg = {"eval": {"split_grid": grid}, "segmentation": {"instance_method": method}}
    with pytest.raises(ConfigError, match=message):
        _split_grid(cfg)
    assert _split_grid({**cfg, "eval": {"split_grid": []}}) == (None, ())
    # the loader refuses it with the other problems of the config, before any training
    with pytest.raises(ConfigError, match=message) as error:
        config_from_dict({"model": {"num_layers": 0}, "eval": {"split_grid": grid},
                          "segmentation": {"instance_method": method}})
    assert "num_layers" in str(error.value)


def test_a_configured_min_size_replaced_by_the_tuned_one_is_warned(tmp_path, caplog):
    import json
    import logging

    from dl_suite.workflows.postprocessing import run_postprocess

    plain = _run_cfg("segmentation", 1)
    (tmp_path / "threshold.json").write_text(json.dumps({"threshold": 0.4, "min_size": 30}))
    with caplog.at_level(logging.WARNING, logger="dl_suite.workflows.postprocessing"):
        segment = run_postprocess(_cfg(min_size=80), tmp_path, run_cfg=plain)
    assert segment.options.min_size == 30 and segment.source["min_size"] == "run (threshold.json)"
    assert "segmentation.min_size = 80 is not used" in caplog.text
    assert "eval.min_size_grid = [80]" in caplog.text
    # no warning when nothing was configured, or the tuned size is the configured one
    for configured in (0, 30):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="dl_suite.workflows.postprocessing"):
            run_postprocess(_cfg(min_size=configured), tmp_path, run_cfg=plain)
        assert "is not used" not in caplog.text
    # with threshold_method 'fixed' the configured size is applied
    fixed = run_postprocess(_cfg(min_size=80, threshold_method="fixed"), tmp_path, run_cfg=plain)
    assert fixed.options.min_size == 80


def test_a_threshold_tuned_under_other_segmentation_settings_is_warned(tmp_path, caplog):
    import json
    import logging

    from dl_suite.workflows.postprocessing import run_postprocess, tuning_settings

    plain = _run_cfg("segmentation", 1)
    tuned_with = tuning_settings(PostprocessOptions(instance_method="watershed", min_distance=15))
    assert tuned_with["min_distance"] == 15 and "seed_threshold" not in tuned_with
    (tmp_path / "threshold.json").write_text(json.dumps(
        {"threshold": 0.6, "min_size": 0, "tuned_with": tuned_with}))

    def warnings(**segmentation):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="dl_suite.workflows.postprocessing"):
            segment = run_postprocess(_cfg(instance_method="watershed", **segmentation), tmp_path,
                                      run_cfg=plain)
        return segment, caplog.text

    segment, text = warnings(min_distance=12)
    assert segment.options.min_distance == 12 and segment.run_threshold == 0.6  # still used
    assert "segmentation.min_distance = 15 then, 12 now" in text and "2.evaluate" in text
    assert "were tuned" not in warnings(min_distance=15)[1]
    # a split parameter the method does not use is not compared
    assert "were tuned" not in warnings(min_distance=15, seed_threshold=0.3)[1]
    text = warnings(min_distance=15, fill_holes=False)[1]
    assert "segmentation.fill_holes = True then, False now" in text
    # the stored values unused (threshold_method 'fixed'): nothing to warn about
    assert "were tuned" not in warnings(min_distance=12, threshold_method="fixed")[1]
    # a method change names the method, not its parameters
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="dl_suite.workflows.postprocessing"):
        run_postprocess(_cfg(instance_method="seeded_watershed"), tmp_path, run_cfg=plain)
    assert "segmentation.instance_method = 'watershed' then, 'seeded_watershed' now" in caplog.text
    assert "min_distance" not in caplog.text
    # with a tuned split value stored too: still one warning about the one change
    (tmp_path / "threshold.json").write_text(json.dumps(
        {"threshold": 0.6, "min_size": 0, "tuned_with": tuned_with, "instance_method": "watershed",
         "split_parameter": "min_distance", "split_value": 15}))
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="dl_suite.workflows.postprocessing"):
        run_postprocess(_cfg(instance_method="seeded_watershed"), tmp_path, run_cfg=plain)
    assert len(caplog.records) == 1 and "'seeded_watershed' now" in caplog.text
    (tmp_path / "threshold.json").write_text(json.dumps(
        {"threshold": 0.6, "min_size": 0, "tuned_with": tuned_with}))
    # the seeded splits record their seed settings, not a min distance
    seeded = tuning_settings(PostprocessOptions(instance_method="seeded_watershed"))
    assert {"seed_threshold", "min_seed_size"} <= set(seeded) and "min_distance" not in seeded
    # a threshold.json written before the settings were stored, or edited by hand: no warning
    for stored in ({"threshold": 0.6, "min_size": 0},
                   {"threshold": 0.6, "min_size": 0, "tuned_with": ["min_distance"]}):
        (tmp_path / "threshold.json").write_text(json.dumps(stored))
        assert "were tuned" not in warnings(min_distance=12)[1]
