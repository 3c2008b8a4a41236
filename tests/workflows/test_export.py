"""export: .keras, SavedModel and bioimage.io packages of a tiny trained run; infer from a package;
bad input. bioimage.io tests skip when bioimageio.spec / bioimageio.core are not installed."""

import json
import os
import shutil
import zipfile

import numpy as np
import pytest

from dl_suite.cli.main import main
from dl_suite.config import load_config
from dl_suite.io import read_image
from dl_suite.workflows import runs
from dl_suite.workflows.demo import make_demo_data
from dl_suite.workflows.export import export
from dl_suite.workflows.infer import infer
from tests.workflows.conftest import CONFIG, TINY

AUTHORS = [{"name": "Test Author", "github_user": "dl-suite-test-user"}]
ARCHITECTURES = {"unet": ["model.num_layers=2"], "attention_unet": ["model.num_layers=2"],
                 "unet_contours": ["model.num_layers=2", "model.num_classes=3",
                                   "generator.target_type=contours"]}


def _finished_run(root, name, model=None):
    """A run folder as `train` leaves it (config, provenance, model, status complete), with the
    model saved untrained: fitting would only add time (train itself is tested elsewhere)."""
    from dl_suite.callbacks import set_global_seed
    from dl_suite.io import save_keras_model
    from dl_suite.workflows.train import _start_run, build_compiled_model, patch_size

    make_demo_data(root / "data", num_train=4, num_test=2, size=48)
    (root / "project.config").write_text(CONFIG.replace('model = "unet"', f'model = "{model or name}"'))
    cfg = load_config(root / "project.config", TINY + ARCHITECTURES[name])
    set_global_seed(0)
    run_dir = _start_run(cfg)
    save_keras_model(build_compiled_model(cfg, 1), run_dir / runs.BEST_MODEL)
    runs.write_status(run_dir, "complete", input_shape=[*patch_size(cfg), 1], epochs_done=1)
    return cfg, run_dir


@pytest.fixture(scope="module")
def unet_run(tmp_path_factory):
    return _finished_run(tmp_path_factory.mktemp("unet"), "unet")


@pytest.fixture(scope="module")
def unet_package(unet_run):
    pytest.importorskip("bioimageio.core")
    return export(unet_run[1], "bioimageio", authors=AUTHORS)


def _check_package(result, run_dir):
    from dl_suite.io.bioimageio import run_model_test, validate_package

    path = result["path"]
    assert path == run_dir / "export" / f"{run_dir.name}.bioimageio.zip"
    status, warnings, report = validate_package(path, github_users=["dl-suite-test-user"])
    assert status == "valid-format" and warnings == [], report
    import yaml

    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        rdf = yaml.safe_load(zf.read("rdf.yaml"))
        test_in = np.load(zf.open("test_input.npy"))
        test_out = np.load(zf.open("test_output.npy"))
    assert {"rdf.yaml", "model.keras", "savedmodel.zip", "test_input.npy", "test_output.npy",
            "sample_input.tif", "sample_output.tif", "cover.png", "README.md", "config.json",
            "provenance.json"} <= names
    files = [rdf["documentation"], *rdf["covers"], *rdf["attachments"],
             *rdf["weights"].values()]
    files += [t[k] for t in rdf["inputs"] + rdf["outputs"] for k in ("test_tensor", "sample_tensor")]
    for entry in files:
        assert entry["source"] in names and not entry["source"].startswith("http")
        assert len(entry["sha256"]) == 64
    assert [a["type"] for a in rdf["inputs"][0]["axes"]] == ["batch", "space", "space", "channel"]
    assert test_in.ndim == 4 and test_in.shape[0] == 1 and test_in.shape[-1] == 1
    assert test_out.dtype == np.float32 and np.abs(test_out).max() >= 1e-4
    steps = [p["id"] for p in rdf["outputs"][0]["postprocessing"]]
    assert steps == ["sigmoid", "binarize"]
    pre = {p["id"]: p.get("kwargs") for p in rdf["inputs"][0]["preprocessing"]}
    assert pre["scale_range"]["max_percentile"] == 99.8  # the run's percentile normalisation
    assert rdf["config"]["dl_suite"]["config_sha256"]
    before = dict(os.environ)
    status, text = run_model_test(path, github_users=["dl-suite-test-user"])
    assert status == "passed", text
    assert dict(os.environ) == before  # bioimageio.core sets KERAS_BACKEND=torch; restored
    return report, text


def test_unet_bioimageio_package_validates_and_reproduces(unet_run, unet_package):
    report, text = _check_package(unet_package, unet_run[1])
    print(report, text)  # the validation output (pytest -s shows it)


@pytest.fixture(scope="module")
def attention_package(tmp_path_factory):
    pytest.importorskip("bioimageio.core")
    _, run_dir = _finished_run(tmp_path_factory.mktemp("attention"), "attention_unet")
    return run_dir, export(run_dir, "bioimageio", authors=AUTHORS)


def test_attention_unet_bioimageio_package_validates(attention_package):
    _, result = attention_package
    # export validated the format (io checks) and reproduced test_output.npy with both formats
    assert result["status"] == "valid-format" and result["warnings"] == []
    assert max(result["format_checks"].values()) <= 1e-4
    assert set(result["format_checks"]) == {"keras_v3", "tensorflow_saved_model_bundle"}


@pytest.mark.slow  # bioimageio.core test_model of a second architecture: ~10 s more
def test_attention_unet_bioimageio_package_passes_test_model(attention_package):
    run_dir, result = attention_package
    _check_package(result, run_dir)


def test_infer_with_the_package_equals_infer_with_the_run(unet_run, unet_package, tmp_path):
    cfg, run_dir = unet_run
    by_run = infer(cfg, run=run_dir, output_dir=tmp_path / "run")
    by_package = infer(cfg, run=unet_package["path"], output_dir=tmp_path / "package")
    assert by_run["done"] == by_package["done"] == 2
    probs = sorted(p.name for p in (tmp_path / "run").iterdir() if "prob" in p.name)
    assert probs
    images = sorted(p.name for p in (tmp_path / "run").iterdir() if p.suffix in (".tif", ".png"))
    assert len(images) >= 4  # probabilities, masks, labels, overlays
    for name in images:
        a, b = read_image(tmp_path / "run" / name), read_image(tmp_path / "package" / name)
        np.testing.assert_allclose(a, b, atol=1e-6, err_msg=name)


def test_keras_and_savedmodel_exports(unet_run):
    import keras

    from dl_suite.io import load_keras_model

    run_dir = unet_run[1]
    kept = export(run_dir, "keras", out=run_dir / "k" / "model.keras")
    carried = json.loads(kept["provenance"].read_text())
    assert carried["provenance.json"]["config_sha256"]
    saved = export(run_dir, "savedmodel")["path"]
    assert saved.name == f"{run_dir.name}_savedmodel"
    assert (saved / "assets.extra" / "provenance.json").is_file()
    x = np.random.default_rng(0).random((1, 64, 48, 1), dtype=np.float32)  # not the training size
    reference = load_keras_model(kept["path"]).predict_on_batch(x)
    out = keras.layers.TFSMLayer(str(saved), call_endpoint="serve")(x)
    assert set(out) == {"probability"}
    np.testing.assert_allclose(np.asarray(out["probability"]), reference, atol=1e-5)
    assert 0.0 <= reference.min() and reference.max() <= 1.0


def _broken_run(run_dir, tmp_path, **changes):
    broken = tmp_path / "models" / "run-009"
    shutil.copytree(run_dir, broken, ignore=shutil.ignore_patterns("export", "k"))
    for name, value in changes.items():
        if value is None:
            (broken / name).unlink(missing_ok=True)
        else:
            (broken / name).write_text(value)
    return broken


def _fails_cleanly(run_dir, fmt, capsys, *expected):
    assert main(["export", str(run_dir), "--format", fmt]) == 2
    err = capsys.readouterr().err
    for text in expected:
        assert text in err, err
    assert "Traceback" not in err
    assert not (run_dir / "export").exists() or not list((run_dir / "export").iterdir())


def test_export_without_a_finished_model_says_what_is_missing(unet_run, tmp_path, capsys):
    status = json.dumps({"status": "running"})
    broken = _broken_run(unet_run[1], tmp_path, **{"run.json": status, "model.keras": None,
                                                   "model_last.keras": None})
    _fails_cleanly(broken, "keras", capsys, "no finished model", "'running'", "model.keras")


def test_export_refuses_several_outputs(unet_run, tmp_path, capsys):
    import keras

    from dl_suite.io import save_keras_model

    inputs = keras.Input((32, 32, 1))
    a = keras.layers.Conv2D(1, 3, padding="same", name="main")(inputs)
    b = keras.layers.Conv2D(1, 3, padding="same", name="aux1")(inputs)
    broken = _broken_run(unet_run[1], tmp_path)
    save_keras_model(keras.Model(inputs, [a, b]), broken / "model.keras")
    _fails_cleanly(broken, "keras", capsys, "2 outputs", "main, aux1")


def test_bioimageio_export_refuses_inexpressible_normalisation(unet_run, tmp_path, capsys):
    pytest.importorskip("bioimageio.spec")
    config = json.loads((unet_run[1] / "config.json").read_text())
    config["image"]["normalization"] = "median"
    broken = _broken_run(unet_run[1], tmp_path, **{"config.json": json.dumps(config)})
    _fails_cleanly(broken, "bioimageio", capsys, "image.normalization = 'median'")


def test_an_unzipped_package_folder_is_a_run_too(unet_run, unet_package, tmp_path):
    from dl_suite.io import load_keras_model
    from dl_suite.workflows.packages import opened_run

    cfg, run_dir = unet_run
    with zipfile.ZipFile(unet_package["path"]) as zf:
        zf.extractall(tmp_path / "pkg")
    x = np.random.default_rng(1).random((1, 32, 32, 1), dtype=np.float32)
    with opened_run(cfg, tmp_path / "pkg") as as_run:
        assert json.loads((as_run / "config.json").read_text()) == json.loads(
            (run_dir / "config.json").read_text())
        got = load_keras_model(as_run / runs.BEST_MODEL).predict_on_batch(x)
    assert not as_run.exists()  # the temporary run folder is gone afterwards
    want = load_keras_model(run_dir / runs.BEST_MODEL).predict_on_batch(x)
    np.testing.assert_allclose(got, want, atol=1e-6)


def test_a_package_not_made_by_dl_suite_is_refused_as_run(tmp_path):
    pytest.importorskip("yaml")
    from dl_suite.errors import UserError
    from dl_suite.workflows.packages import opened_run

    with zipfile.ZipFile(tmp_path / "other.zip", "w") as zf:
        zf.writestr("rdf.yaml", "type: model\nname: someone else's model\n")
    with pytest.raises(UserError, match="not one exported by dl-suite"), \
            opened_run(None, tmp_path / "other.zip"):
        pass



def test_contour_target_package_names_its_channels_and_foreground(tmp_path_factory):
    """A contour-target run (background, interior, contour) exports class probabilities whose
    channels are named, and states dl-suite's rule: foreground = 1 - background, at the run's
    threshold."""
    pytest.importorskip("bioimageio.core")
    import yaml

    from dl_suite.evaluation import save_threshold

    root = tmp_path_factory.mktemp("contours")
    _, run_dir = _finished_run(root, "unet_contours", model="unet")
    save_threshold(run_dir, {"metric": "dice", "threshold": 0.35, "min_size": 0})
    result = export(run_dir, "bioimageio", authors=AUTHORS)
    assert result["status"] == "valid-format" and result["warnings"] == []
    with zipfile.ZipFile(result["path"]) as zf:
        rdf = yaml.safe_load(zf.read("rdf.yaml"))
        readme = zf.read("README.md").decode()
        test_out = np.load(zf.open("test_output.npy"))
    output = rdf["outputs"][0]
    assert output["axes"][-1]["channel_names"] == ["background", "interior", "contour"]
    assert "binarize" not in [p["id"] for p in output["postprocessing"]]
    assert output["postprocessing"][0]["id"] == "softmax"
    assert rdf["config"]["dl_suite"]["foreground"] == "1 - channel 0"
    assert rdf["config"]["dl_suite"]["threshold"] == 0.35
    assert "1 - channel 0 (`background`)" in readme and "above 0.35" in readme
    assert test_out.shape[-1] == 3 and np.allclose(test_out.sum(axis=-1), 1, atol=1e-5)
