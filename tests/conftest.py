import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Tests compile many tiny graphs once each: XLA's CPU code generation at LLVM -O0 compiles
# them about 3x faster (JAX zoo test of multires_unet 62 s -> 20 s on 2 cores), and the
# numbers they compute are the same operations. Set before Keras starts a backend; a flag the
# user gives in XLA_FLAGS wins.
if "xla_backend_optimization_level" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "")
                               + " --xla_backend_optimization_level=0").strip()

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture
def shared_dir():
    """../shared beside the repository (real data and legacy configs); skip when absent."""
    if not SHARED.is_dir():
        pytest.skip("../shared is not present beside the repository")
    return SHARED


def pytest_collection_modifyitems(config, items):
    """Skips tests marked slow unless they are selected explicitly (`-m slow`).

    Runs after the folder conftests (trylast), so a marker they add is seen here.
    """
    if "slow" in (config.option.markexpr or ""):
        return
    skip = pytest.mark.skip(reason="slow: run with -m slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


pytest_collection_modifyitems.trylast = True
