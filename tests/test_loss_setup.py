"""Config keys to loss parameters, and the deep-supervision weights (dl_suite.loss_setup)."""

import pytest

from dl_suite import loss_setup as S


def test_loss_params_from_config():
    section = {"focal_gamma": 3.0, "focal_alpha": 0.5, "tversky_alpha": 0.4,
               "tversky_beta": 0.6, "focal_tversky_gamma": 1.5, "class_weights": [1, 2]}
    assert S.loss_params_from_config("focal", section) == {"gamma": 3.0, "alpha": 0.5}
    assert S.loss_params_from_config("focal_tversky", section) == {
        "gamma": 1.5, "alpha": 0.4, "beta": 0.6}
    assert S.loss_params_from_config("sparse_cce", section) == {"class_weights": [1, 2]}
    assert S.loss_params_from_config("dice", section) == {}


def test_deep_supervision():
    losses, weights = S.deep_supervision_losses("dice", 3, aux_weights=0.5)
    assert len(losses) == 3 and weights == [1.0, 0.5, 0.5]
    # one rule for the default: the trainer's path and models.compile_kwargs agree (0.4 each)
    from dl_suite.models import TINY_KWARGS, build_model, compile_kwargs

    model = build_model("unet3plus", (32, 32, 1), 1, **TINY_KWARGS["unet3plus"])
    names = list(model.output_names)
    assert len(names) > 2
    expected = [1.0] + [S.DEFAULT_AUX_WEIGHT] * (len(names) - 1)
    assert S.deep_supervision_losses("dice", len(names))[1] == expected
    assert list(compile_kwargs(model, "bce")["loss_weights"].values()) == expected
    assert S.DEFAULT_AUX_WEIGHT == 0.4
    with pytest.raises(ValueError, match="auxiliary"):
        S.deep_supervision_losses("dice", 3, aux_weights=[1.0])
