"""The INI tool's remaining model classes: TensorflowXceptionLikeUNet and TensorflowBASNet."""

import keras
import pytest

from dl_suite.config import config_from_dict
from dl_suite.models import build_model


def test_xception_unet_matches_the_keras_io_example():
    # keras.io "Image segmentation with a U-Net-like architecture": 160x160x3 in, 3 classes,
    # "Total params: 2,058,979".
    model = build_model("TensorflowXceptionLikeUNet", (160, 160, 3), 3)
    assert model.count_params() == 2_058_979
    assert model.output_shape == (None, 160, 160, 3)
    keras.backend.clear_session()


def test_basnet_outputs_and_size_rule():
    model = build_model("basnet", (32, 32, 1), 1, base_filters=4, num_layers=3, num_blocks=1,
                        deep_supervision=True)
    # refined map + coarse map + 3 decoder stages... : main, aux1 (coarse), aux2, aux3, aux4 (bridge)
    assert model.output_names == ["main", "aux1", "aux2", "aux3", "aux4"]
    assert all(o.shape[1:] == (32, 32, 1) for o in model.outputs)
    with pytest.raises(ValueError, match="16"):
        build_model("basnet", (24, 24, 1), 1, base_filters=4, num_layers=3)
    keras.backend.clear_session()


def test_ini_class_names_select_them():
    for legacy, name in (("TensorflowXceptionLikeUNet", "xception_unet"), ("TensorflowBASNet", "basnet")):
        assert config_from_dict({"model": {"name": name}})["model"]["name"] == name
        from dl_suite.config.dialects import MODEL_ALIASES
        assert MODEL_ALIASES[legacy] == name
