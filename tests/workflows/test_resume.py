"""An interrupted training (kill -9) resumes from its last finished epoch with a continuous history."""

import csv
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from dl_suite.cli.main import main
from tests.conftest import REPO
from tests.workflows.conftest import TINY

EPOCHS = 8


@pytest.mark.slow
def test_kill_after_epoch_2_then_resume(tiny_project):
    config = tiny_project / "project.config"
    sets = [s for s in TINY if not s.startswith("train.epochs")] + [f"train.epochs={EPOCHS}", "train.patience=0"]
    args = sum((["--set", s] for s in sets), [])
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-m", "dl_suite", "train", str(config), *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    state = tiny_project / "models" / "run-001" / "resume" / "state.json"
    deadline = time.time() + 240
    try:
        while time.time() < deadline:
            if state.is_file() and json.loads(state.read_text())["epoch"] >= 2:
                break
            assert proc.poll() is None, "training ended before it could be killed"
            time.sleep(0.05)
        else:
            pytest.fail("training did not finish 2 epochs in time")
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    killed_at = json.loads(state.read_text())["epoch"]
    assert 2 <= killed_at < EPOCHS

    run_dir = tiny_project / "models" / "run-001"
    assert main(["train", str(config), *args, "--resume", str(run_dir)]) == 0
    with open(run_dir / "history.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == list(range(1, EPOCHS + 1)) or \
        [int(r["epoch"]) for r in rows] == list(range(EPOCHS))
    status = json.loads((run_dir / "run.json").read_text())
    assert status["status"] == "complete" and status["epochs_done"] == EPOCHS
    assert not (tiny_project / "models" / "run-002").exists()
