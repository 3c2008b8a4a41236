import csv
import json

import numpy as np

from dl_suite.config import load_config
from dl_suite.io import read_image
from dl_suite.workflows import runs
from dl_suite.workflows.evaluate import evaluate
from dl_suite.workflows.infer import infer
from dl_suite.workflows.train import train
from tests.workflows.conftest import TINY


def test_train_evaluate_infer_on_synthetic_data(tiny_project):
    cfg = load_config(tiny_project / "project.config", TINY)
    run_dir = train(cfg)
    assert run_dir == tiny_project / "models" / "run-001"
    for name in ("config.json", "model.keras", "history.csv", "run.json"):
        assert (run_dir / name).is_file(), name
    assert runs.read_status(run_dir)["status"] == "complete"
    saved = json.loads((run_dir / "config.json").read_text())
    assert saved["schema_version"] >= 1 and saved["image"]["normalization"] == "percentile"
    with open(run_dir / "history.csv") as f:
        assert len(list(csv.DictReader(f))) == 1
    assert list((run_dir / "epoch_change_infer").glob("*.png"))

    result = evaluate(cfg, run=run_dir)
    out = result["output_dir"]
    rows = list(csv.DictReader(open(out / "evaluation.csv")))
    assert len(rows) == 3  # two images + the mean row
    summary = json.loads((out / "summary.json").read_text())
    assert 0.0 <= summary["mean"]["dice"] <= 1.0

    report = infer(cfg, run=run_dir)
    assert report["done"] == 2 and report["failed"] == 0
    produced = sorted(p.name for p in report["output_dir"].iterdir())
    assert any(n.endswith(".png") for n in produced) and any(n.endswith(".tif") for n in produced)
    prob_files = [p for p in report["output_dir"].iterdir() if "prob" in p.name]
    assert prob_files and read_image(prob_files[0]).dtype == np.float32
    # A second inference skips finished files instead of overwriting them.
    assert infer(cfg, run=run_dir)["skipped"] == 2


def test_same_seed_same_weights_and_the_second_run_never_touches_the_first(tiny_project):
    import keras

    cfg = load_config(tiny_project / "project.config", TINY + ["train.deterministic=True"])
    first = train(cfg)
    before = {p.name: p.stat().st_mtime_ns for p in first.iterdir() if p.is_file()}
    second = train(cfg)
    assert (first.name, second.name) == ("run-001", "run-002")
    after = {p.name: p.stat().st_mtime_ns for p in first.iterdir() if p.is_file()}
    assert before == after
    weights = [keras.saving.load_model(run / "model_last.keras", compile=False).get_weights()
               for run in (first, second)]
    for a, b in zip(*weights):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)
