"""[train] distribution: mirrored over 2 logical CPUs, a real 2-worker run on loopback, bad input."""

import csv
import json
import os
import socket
import subprocess
import sys

import pytest

from dl_suite.distribution import Distribution, _check_tf_config, make_distribution
from dl_suite.errors import UserError
from dl_suite.workflows.demo import make_demo_data
from tests.conftest import REPO
from tests.workflows.conftest import CONFIG, TINY

# XLA and the per-epoch previews off: they cost seconds of compilation in every process.
RUN = TINY + ["train.epochs=2", "train.jit_compile=False", "train.epoch_change_infer=False"]
TIMEOUT = 300

# Logical CPU devices must be configured before TensorFlow starts: done in a fresh process.
MIRRORED = """
import json, sys
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from dl_suite.config import load_config
from dl_suite.workflows.train import train
print(train(load_config("project.config", json.loads(sys.argv[1]))))
"""


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _env(**extra):
    return {**os.environ, "PYTHONPATH": str(REPO), "KERAS_BACKEND": "tensorflow",
            "TF_CPP_MIN_LOG_LEVEL": "2", **extra}


def _project(folder):
    make_demo_data(folder / "data", num_train=6, num_test=2, size=48)
    (folder / "project.config").write_text(CONFIG)
    return folder


@pytest.fixture(scope="module")
def distributed_runs(tmp_path_factory):
    """Starts the mirrored run (one process) and both workers of the multi-worker run at once,
    so that their start-ups overlap; returns what each produced."""
    pytest.importorskip("tensorflow")
    mirrored = _project(tmp_path_factory.mktemp("mirrored"))
    shared = _project(tmp_path_factory.mktemp("multi_worker"))  # one folder: a shared file system
    args = [f"--set={item}" for item in RUN + ["train.distribution=multi_worker"]]
    cluster = {"worker": [f"127.0.0.1:{p}" for p in _free_ports(2)]}
    procs = [subprocess.Popen([sys.executable, "-c", MIRRORED, json.dumps(RUN + [
        "train.distribution=mirrored"])], cwd=mirrored, env=_env(), text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)]
    for index in (0, 1):
        tf_config = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "dl_suite", "train", "project.config", *args], cwd=shared,
            env=_env(TF_CONFIG=tf_config), text=True, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE))
    try:
        results = [p.communicate(timeout=TIMEOUT) + (p.returncode,) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    return {"mirrored": (mirrored, results[0]), "workers": (shared, results[1:])}


def _history(run_dir):
    with open(run_dir / "history.csv") as f:
        return list(csv.DictReader(f))


def _names(folder):
    return sorted(p.relative_to(folder).parts[0] for p in folder.rglob("*"))


def test_mirrored_over_two_logical_cpus(distributed_runs):
    folder, (out, err, code) = distributed_runs["mirrored"]
    assert code == 0, err[-3000:]
    run_dir = folder / "models" / "run-001"
    assert out.strip().splitlines()[-1] == str(run_dir)
    assert json.loads((run_dir / "run.json").read_text())["replicas"] == 2
    rows = _history(run_dir)
    assert len(rows) == 2 and all(float(r["loss"]) > 0 for r in rows)


def test_two_workers_on_loopback_write_one_run_folder(distributed_runs):
    folder, results = distributed_runs["workers"]
    for out, err, code in results:
        assert code == 0, err[-3000:]
    assert "Run folder:" in results[0][0]  # worker 0 is the chief
    assert "chief worker wrote the run folder" in results[1][0]
    assert [p.name for p in (folder / "models").iterdir()] == ["run-001"]  # the worker wrote none
    run_dir = folder / "models" / "run-001"
    single_process = distributed_runs["mirrored"][0] / "models" / "run-001"
    assert _names(run_dir) == _names(single_process)
    assert {"model.keras", "history.csv", "config.json", "curves.png"} <= set(_names(run_dir))
    rows = _history(run_dir)
    assert len(rows) == 2 and all(float(r["loss"]) > 0 for r in rows)
    status = json.loads((run_dir / "run.json").read_text())
    assert status["status"] == "complete" and status["replicas"] == 2


def test_unsupported_combinations_are_one_clear_error(monkeypatch):
    assert make_distribution("none") == Distribution()
    with pytest.raises(UserError, match="multi_worker.*TensorFlow backend"):
        make_distribution("multi_worker", backend="jax")
    with pytest.raises(UserError, match="'torch' backend"):
        make_distribution("mirrored", backend="torch")
    with pytest.raises(UserError, match="needs the TF_CONFIG"):
        _check_tf_config(None)
    with pytest.raises(UserError, match="Cannot use TF_CONFIG"):
        _check_tf_config('{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 3}}')
    two = Distribution("mirrored", num_replicas=2)
    with pytest.raises(UserError, match="divisible by the number of replicas.*e.g. 2 or 4"):
        two.check_batch_size(3)
    two.check_batch_size(4)
    assert two.learning_rate(1e-3, "linear") == 2e-3 and two.learning_rate(1e-3, "none") == 1e-3
