import hashlib
import json

from dl_suite.config import load_config
from dl_suite.io.provenance_files import hash_files
from dl_suite.workflows import runs
from dl_suite.workflows.provenance import config_hash
from dl_suite.workflows.train import _start_run
from tests.workflows.conftest import TINY


def test_run_folder_records_provenance(tiny_project):
    cfg = load_config(tiny_project / "project.config", TINY + ["train.seed=7"])
    run_dir = _start_run(cfg)  # what train() writes before fitting
    prov = json.loads((run_dir / runs.PROVENANCE_FILE).read_text())
    assert prov["config_sha256"] == config_hash(cfg) and len(prov["config_sha256"]) == 64
    assert prov["config"]["train"]["seed"] == 7 and prov["seeds"]["train.seed"] == 7
    assert prov["backend"] in ("tensorflow", "jax", "torch")
    assert {"python", "dl-suite", "keras", "numpy"} <= set(prov["versions"])
    hw = prov["hardware"]
    assert hw["cpu"] and hw["cpu_cores"] >= 1 and hw["memory_bytes"] > 0 and isinstance(hw["gpus"], list)
    files = prov["inputs"]["files"]
    assert len(files) == 12  # 6 training images + 6 masks
    first = files[0]
    with open(first["path"], "rb") as f:
        assert first["sha256"] == hashlib.sha256(f.read()).hexdigest()
    # another seed, another config hash
    assert config_hash(load_config(tiny_project / "project.config", TINY)) != prov["config_sha256"]


def test_hashing_stops_at_the_cap(tmp_path):
    paths = []
    for i in range(3):
        paths.append(tmp_path / f"{i}.bin")
        paths[-1].write_bytes(bytes([i]) * 1000)
    out = hash_files(paths, max_bytes=2500)
    assert [f["sha256"] is not None for f in out["files"]] == [True, True, False]
    assert out["hashed_bytes"] == 2000 and out["unhashed_files"] == 1 and out["files"][2]["bytes"] == 1000
