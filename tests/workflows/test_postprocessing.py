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
