import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

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
