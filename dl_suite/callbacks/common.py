"""Run-folder file names and monitor helpers shared by the callbacks."""

import math


from dl_suite import losses as _losses  # noqa: F401  (registers serializable losses)
from dl_suite import metrics as _metrics  # noqa: F401  (registers serializable metrics)
from dl_suite import optimizers as _optimizers  # noqa: F401  (registers schedules)
from dl_suite.registry import Registry


CALLBACKS = Registry("callback")

# The run-folder file names live in one place, `dl_suite.workflows.runs`.
from dl_suite.workflows.runs import (  # noqa: E402,F401
    BEST_MODEL,
    CHECKPOINT_DIR,
    CURVES_FILE,
    HISTORY_FILE,
    LAST_MODEL,
    RESUME_DIR,
    STATE_FILE,
    checkpoint_names,
)
HIGHER_IS_BETTER = ("acc", "dice", "iou", "jaccard", "precision", "recall", "f1", "auc")


def monitor_mode(monitor, mode="auto"):
    """'max' for accuracy-like quantities (dice, iou, accuracy, ...), else 'min'."""
    if mode in ("min", "max"):
        return mode
    return "max" if any(key in monitor.lower() for key in HIGHER_IS_BETTER) else "min"


def _finite(value):
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return True


def _json_number(value):
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None

