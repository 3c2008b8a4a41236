"""Attack budgets through the run's normalisation, and robustness ratios on a toy model."""

import numpy as np
import pytest

from dl_suite.data.normalization import normalize
from dl_suite.errors import UserError
from dl_suite.robustness.budget import check_epsilons, check_normalisation, input_budget
from dl_suite.robustness.report import add_ratios, mean_robustness


def test_budget_through_div255_and_percentile():
    rng = np.random.default_rng(0)
    raw8 = rng.integers(0, 256, (16, 16, 1)).astype(np.uint8)
    assert input_budget(8, raw8, normalize(raw8, "div255")) == pytest.approx(8 / 255, rel=1e-5)
    raw16 = rng.integers(100, 4100, (16, 16, 1)).astype(np.uint16)
    lo, hi = np.percentile(raw16.astype(np.float32), [1, 99.8])
    expected = 8 / 255 * (float(raw16.max()) - float(raw16.min())) / (hi - lo)
    assert input_budget(8, raw16, normalize(raw16, "percentile")) == pytest.approx(expected, rel=1e-4)


def test_bad_epsilons_and_unknown_normalisation_are_user_errors():
    with pytest.raises(UserError, match="expected 0..255"):
        check_epsilons([8, 300])
    with pytest.raises(UserError, match="expected 0..255"):
        check_epsilons([-1])
    with pytest.raises(UserError, match="'clahe'"):
        check_normalisation({"image": {"normalization": "clahe"}}, "run-001")
    with pytest.raises(UserError, match="None"):
        check_normalisation({}, "run-001")


def test_ratios_and_means_by_hand():
    rows = [{"run": "a", "family": "clean", "iou": 0.8}, {"run": "a", "family": "blur", "iou": 0.4},
            {"run": "a", "family": "blur", "iou": 0.8}, {"run": "b", "family": "clean", "iou": 0.5},
            {"run": "b", "family": "blur", "iou": 0.25}]
    add_ratios(rows)
    assert [r["ratio"] for r in rows] == [1.0, 0.5, 1.0, 1.0, 0.5]
    assert mean_robustness(rows) == {"a": {"blur": 0.75}, "b": {"blur": 0.5}}


def _identity_run(root, name="run-001"):
    """A run whose model is the identity (1x1 conv, weight 1): prediction = image / 255."""
    import keras

    from dl_suite.config import config_from_dict
    from dl_suite.io import write_text

    inputs = keras.Input((None, None, 1))
    layer = keras.layers.Conv2D(1, 1, use_bias=False, name="identity")
    model = keras.Model(inputs, layer(inputs))
    layer.set_weights([np.ones((1, 1, 1, 1), np.float32)])
    run = root / "models" / name
    run.mkdir(parents=True)
    model.save(run / "model.keras")
    cfg = config_from_dict({"model": {"image_channels": 1, "num_classes": 1},
                            "image": {"normalization": "div255"}})
    write_text(run / "config.json", cfg.to_json())
    return run


def test_robustness_ratios_on_an_identity_model(tmp_path):
    """Discs at 200 on 0 (8-bit), threshold 0.5 on image/255, foreground fraction < 0.2:
    contrast 0.7 keeps the discs above 127.5 (ratio 1), contrast 0.5 drops them below (ratio 0);
    gamma keeps min and max (ratio 1); FGSM lowers discs by eps: 8 grey levels keep them
    (ratio 1), 80 push 200 to 120 < 127.5 (ratio 0)."""
    from dl_suite.config import config_from_dict
    from dl_suite.io import read_json, write_image
    from dl_suite.workflows.robustness import robustness

    run = _identity_run(tmp_path)
    yy, xx = np.mgrid[0:32, 0:32]
    for i in range(2):
        mask = ((yy - 10 - 8 * i) ** 2 + (xx - 14) ** 2 < 30).astype(np.uint8)
        assert 0 < mask.mean() < 0.2
        write_image(tmp_path / "data" / "images" / f"c{i}.png", (mask * 200).astype(np.uint8))
        write_image(tmp_path / "data" / "masks" / f"c{i}.tif", mask)
    cfg = config_from_dict({
        "eval": {"datapath": str(tmp_path / "data")}, "train": {"model_dir": str(tmp_path / "models")},
        "robustness": {"families": ["contrast", "gamma"], "severities": [1, 2], "attacks": ["fgsm"],
                       "epsilons": [8, 80], "num_examples": 1},
    })
    result = robustness(cfg, run_dirs=[run])
    ratios = {(r["family"], r["severity"]): r["ratio"] for r in result["rows"]}
    assert ratios == {("clean", 0): 1.0, ("contrast", 1): 1.0, ("contrast", 2): 0.0, ("gamma", 1): 1.0,
                      ("gamma", 2): 1.0, ("fgsm", 1): 1.0, ("fgsm", 2): 0.0}
    assert result["mean_robustness"] == {"run-001": {"contrast": 0.5, "gamma": 1.0, "fgsm": 0.5}}
    out = result["output_dir"]
    assert out == run / "robustness"
    assert read_json(out / "robustness.json")["mean_robustness"]["run-001"]["fgsm"] == 0.5
    for name in ("robustness.csv", "robustness.md", "ratio_vs_severity.png", "ratio_vs_epsilon.png"):
        assert (out / name).is_file()
    assert "SNR = S / sigma" in (out / "robustness.md").read_text()
    other = _identity_run(tmp_path, "run-002")
    both = robustness(cfg, run_dirs=[run, other])  # two runs: a heatmap, beside the runs
    assert both["output_dir"] == tmp_path / "models" / "robustness"
    assert set(both["mean_robustness"]) == {"run-001", "run-002"}
    assert (both["output_dir"] / "robustness_heatmap.png").is_file()
    again = robustness(cfg, run_dirs=[run])  # the earlier report is kept
    assert again["output_dir"] == run / "robustness-2" and (out / "robustness.csv").is_file()


def test_robustness_command_exit_2_for_bad_epsilon(tmp_path):
    from dl_suite.cli.main import main

    run = _identity_run(tmp_path)
    config = tmp_path / "r.json"
    config.write_text('{"robustness": {"epsilons": [8, 400]}}')
    assert main(["robustness", str(config), "--run", str(run)]) == 2


def test_attack_of_an_image_larger_than_a_fixed_size_model_goes_tile_by_tile():
    """An identity model built for 16x16 inputs, a 40x24 image: FGSM lowers every foreground
    pixel (target 1, probability 0.6 < 1) by eps, in every tile, and keeps the image size."""
    import types

    import keras

    from dl_suite.robustness.attacks import gradient_function
    from dl_suite.workflows.robustness import _attack_whole

    inputs = keras.Input((16, 16, 1))
    layer = keras.layers.Conv2D(1, 1, use_bias=False)
    model = keras.Model(inputs, layer(inputs))
    layer.set_weights([np.ones((1, 1, 1, 1), np.float32)])
    predictor = types.SimpleNamespace(model=model, options=types.SimpleNamespace(input_multiple=1))
    image = np.zeros((40, 24, 1), np.float32)
    image[::3, ::2] = 0.6
    target = (image > 0).astype(np.float32)
    section = {"iterations": 1, "random_start": False}
    adv = _attack_whole(gradient_function(model), predictor, image, target, 0.1, 0.1, "fgsm", section, 0)
    assert adv.shape == image.shape
    np.testing.assert_allclose(adv[image > 0], 0.5, atol=1e-6)
    np.testing.assert_array_equal(adv[image == 0], 0.0)  # clipped probabilities: no gradient
