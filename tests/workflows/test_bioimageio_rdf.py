import numpy as np
import pytest

from dl_suite.data.normalization import NORMALIZERS, normalize
from dl_suite.errors import UserError
from dl_suite.workflows.bioimageio_rdf import postprocessing, preprocessing

SECTION = {"p_low": 2.0, "p_high": 98.0, "color_converter": None, "gamma": None, "sharpening": None}
EXPRESSIBLE = {"none", "div255", "minmax", "percentile", "zscore"}


def _apply(steps, x):
    """numpy reference of the bioimage.io ops used (per-image statistics)."""
    for step in steps:
        kw = step.get("kwargs", {})
        if step["id"] == "scale_linear":
            x = x * kw["gain"] + kw["offset"]
        elif step["id"] == "scale_range":
            lo, hi = np.percentile(x, [kw["min_percentile"], kw["max_percentile"]])
            x = (x - lo) / (hi - lo + kw["eps"])
        elif step["id"] == "zero_mean_unit_variance":
            x = (x - x.mean()) / (x.std() + kw["eps"])
    return x.astype(np.float32)


@pytest.mark.parametrize("method", sorted(NORMALIZERS.names()))
def test_every_normalisation_is_expressed_exactly_or_refused_by_name(method):
    image = np.random.default_rng(0).integers(0, 255, (16, 16, 2)).astype(np.float32)
    section = {**SECTION, "normalization": method}
    if method not in EXPRESSIBLE:
        with pytest.raises(UserError, match=f"normalization = '{method}'"):
            preprocessing(section)
        return
    ours = normalize(image, method, p_low=2.0, p_high=98.0)
    np.testing.assert_allclose(_apply(preprocessing(section), image), ours, atol=1e-4)


def test_image_filters_are_refused_by_name():
    with pytest.raises(UserError, match="image.gamma"):
        preprocessing({**SECTION, "normalization": "none", "gamma": 0.5})


def test_postprocessing_of_each_activation():
    assert postprocessing("sigmoid", 0.4)[0] == [{"id": "sigmoid"},
                                                 {"id": "binarize", "kwargs": {"threshold": 0.4}}]
    assert postprocessing("sigmoid", None)[0] == [{"id": "sigmoid"}]  # Otsu: probabilities
    assert postprocessing("softmax", None)[0] == [{"id": "softmax", "kwargs": {"axis": "channel"}}]
    with pytest.raises(UserError, match="tanh"):
        postprocessing("tanh", 0.5)


def test_channel_names_of_contour_and_distance_level_runs():
    from dl_suite.workflows.bioimageio_rdf import channel_names

    assert channel_names(3, 0, 2) == ["background", "interior", "contour"]
    assert channel_names(5, 0, None, distance_levels=True) == [
        "background", "level1", "level2", "level3", "level4"]
    assert channel_names(3) == ["class0", "class1", "class2"]
