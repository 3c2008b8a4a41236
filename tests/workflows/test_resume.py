"""Runs survive interruption: a kill -9 resumes from its last finished epoch and ends with the
same weights as an uninterrupted run; failed runs are marked; weights-only runs are usable."""

import csv
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from dl_suite.cli.main import main
from dl_suite.config import load_config
from dl_suite.io import load_keras_model
from dl_suite.workflows import runs
from tests.conftest import REPO
from tests.workflows.conftest import TINY

EPOCHS = 4
# Augmentation that draws random parameters every batch (rotation + flips are on by default),
# a learning-rate schedule that depends on the step, Adam moments: all must continue exactly.
RESUME_SETS = [s for s in TINY if not s.startswith("train.epochs")] + [
    f"train.epochs={EPOCHS}", "train.patience=0", "train.deterministic=True",
    "train.epoch_change_infer=False", "augmentor.random_rotation=True", "train.lr_schedule=cosine",
]


def _kill_after(proc, state, epochs, timeout=300):
    deadline = time.time() + timeout
    try:
        while time.time() < deadline:
            if state.is_file() and json.loads(state.read_text())["epoch"] >= epochs:
                break
            assert proc.poll() is None, "training ended before it could be killed"
            time.sleep(0.02)
        else:
            pytest.fail(f"training did not finish {epochs} epochs in time")
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)


def test_killed_run_resumes_to_the_uninterrupted_weights(tiny_project):
    config = tiny_project / "project.config"
    args = sum((["--set", s] for s in RESUME_SETS), [])
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-m", "dl_suite", "train", str(config), *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    run_dir = tiny_project / "models" / "run-001"
    state = run_dir / "resume" / "state.json"
    _kill_after(proc, state, 2)
    assert proc.returncode == -signal.SIGKILL
    killed_at = json.loads(state.read_text())["epoch"]
    assert 2 <= killed_at < EPOCHS
    load_keras_model(run_dir / "model_last.keras")  # never half-written

    assert main(["train", str(config), *args, "--resume", str(run_dir)]) == 0
    with open(run_dir / "history.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == list(range(1, EPOCHS + 1))
    status = json.loads((run_dir / "run.json").read_text())
    assert status["status"] == "complete" and status["epochs_done"] == EPOCHS
    assert not (tiny_project / "models" / "run-002").exists()

    # the same config, never interrupted
    reference = ["--set", "train.model_dir=./reference"]
    assert main(["train", str(config), *args, *reference]) == 0
    resumed = load_keras_model(run_dir / "model_last.keras").get_weights()
    straight = load_keras_model(tiny_project / "reference" / "run-001" / "model_last.keras")
    diff = max(float(np.max(np.abs(a - b))) for a, b in zip(resumed, straight.get_weights()))
    print(f"max abs weight difference resumed vs uninterrupted: {diff:.3g}")
    # CPU, deterministic ops, same seeds, batches drawn from (seed, epoch, index), Adam state,
    # schedule step and dropout generator states restored: bit-identical (measured 0.0)
    assert diff == 0.0, diff
    with open(tiny_project / "reference" / "run-001" / "history.csv") as f:
        losses = [float(r["loss"]) for r in csv.DictReader(f)]
    assert np.allclose([float(r["loss"]) for r in rows], losses, rtol=1e-5, atol=1e-7)


def test_run_failing_before_its_first_epoch_is_marked_failed(tiny_project):
    cfg = load_config(tiny_project / "project.config",
                      TINY + ["train.image_datapath=./data/missing"])
    with pytest.raises(Exception):
        from dl_suite.workflows.train import train

        train(cfg)
    run_dir = tiny_project / "models" / "run-001"
    status = runs.read_status(run_dir)
    assert status["status"] == "failed" and "missing" in status["error"]
    with pytest.raises(Exception, match="No unfinished run"):
        runs.latest_resumable(tiny_project / "models")


def test_contours_with_one_class_is_refused_before_a_run_starts(tiny_project):
    from dl_suite.errors import ConfigError
    from dl_suite.workflows.train import train

    cfg = load_config(tiny_project / "project.config",
                      TINY + ["generator.target_type=contours"])
    with pytest.raises(ConfigError, match="num_classes = 3"):
        train(cfg)
    assert not (tiny_project / "models").exists() or not runs.list_runs(tiny_project / "models")


def test_weights_only_run_evaluates_and_infers(tiny_project):
    from dl_suite.workflows.evaluate import evaluate
    from dl_suite.workflows.infer import infer
    from dl_suite.workflows.predict import load_model
    from dl_suite.workflows.train import train

    cfg = load_config(tiny_project / "project.config",
                      TINY + ["train.save_weights_only=True", "train.epoch_change_infer=False"])
    run_dir = train(cfg)
    assert not (run_dir / "model.keras").exists() and (run_dir / "model.weights.h5").is_file()
    assert runs.model_file(run_dir) == run_dir / "model.weights.h5"
    assert runs.latest_run(tiny_project / "models") == run_dir
    model = load_model(runs.model_file(run_dir))
    full = load_keras_model(run_dir / "resume" / sorted(
        p.name for p in (run_dir / "resume").glob("model_epoch_*.keras"))[-1])
    x = np.random.default_rng(0).random((1, 32, 32, 1)).astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0), full.predict(x, verbose=0),
                               atol=1e-6)
    result = evaluate(cfg, run=run_dir)
    assert (result["output_dir"] / "evaluation.csv").is_file()
    assert infer(cfg, run=run_dir)["done"] == 2


def test_resumed_run_keeps_its_time_budget(tiny_project, capsys):
    """`max_train_minutes` is the run's budget over all sessions: the resume state records the
    training time, a resume without time left for an epoch is refused with what to do, and a
    resume with a larger budget continues the clock instead of restarting it."""
    config = str(tiny_project / "project.config")
    args = sum((["--set", s] for s in TINY + ["train.epoch_change_infer=False",
                                               "train.max_train_minutes=10"]), [])
    assert main(["train", config, *args]) == 0
    run_dir = tiny_project / "models" / "run-001"
    state_path = run_dir / "resume" / "state.json"
    state = json.loads(state_path.read_text())
    assert state["epoch"] == 1 and 0.0 < state["train_seconds"] < 600.0
    state["train_seconds"] = 594.0  # as if the first session had used 9.9 of the 10 minutes
    state_path.write_text(json.dumps(state))
    status = (run_dir / "run.json").read_text()
    more = ["--set", "train.epochs=3", "--resume", str(run_dir)]
    capsys.readouterr()
    assert main(["train", config, *args, *more]) == 2
    err = capsys.readouterr().err
    assert "9.9 min of its 10-minute time budget" in err, err
    assert "--set train.max_train_minutes=20" in err, err
    assert (run_dir / "run.json").read_text() == status  # a refused resume changes nothing
    assert json.loads(state_path.read_text())["epoch"] == 1

    # weight averaging cannot be switched on half-way: refused, nothing changed
    averaged = ["--set", "train.ema_momentum=0.99"]
    assert main(["train", config, *args, "--set", "train.max_train_minutes=20", *averaged,
                 *more]) == 2
    err = capsys.readouterr().err
    assert "trained without weight averaging" in err and "train.ema_momentum=None" in err, err
    assert (run_dir / "run.json").read_text() == status

    assert main(["train", config, *args, "--set", "train.max_train_minutes=20", *more]) == 0
    state = json.loads(state_path.read_text())
    # 594 s + 594 s per epoch fit in 20 min; this session's seconds are added to the 594
    assert state["epoch"] == 3 and 594.0 < state["train_seconds"] < 594.0 + 300.0
