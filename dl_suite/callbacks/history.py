"""History CSV and training curves, rewritten atomically after every epoch."""

import logging
import math
from pathlib import Path

import keras
import numpy as np

from dl_suite import losses as _losses  # noqa: F401  (registers serializable losses)
from dl_suite import metrics as _metrics  # noqa: F401  (registers serializable metrics)
from dl_suite import optimizers as _optimizers  # noqa: F401  (registers schedules)
from dl_suite.io import save_figure, write_text

from dl_suite.callbacks.common import (  # noqa: F401
    CALLBACKS,
    BEST_MODEL,
    LAST_MODEL,
    HISTORY_FILE,
    CURVES_FILE,
    RESUME_DIR,
    STATE_FILE,
    CHECKPOINT_DIR,
    HIGHER_IS_BETTER,
    monitor_mode,
    _finite,
    _json_number,
)

logger = logging.getLogger(__name__)

def _current_lr(model):
    try:
        return float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
    except (AttributeError, TypeError, ValueError):
        return None


@CALLBACKS.register("history")
class HistoryLogger(keras.callbacks.Callback):
    """Keeps the full history (continued across resumes) and rewrites `history.csv` and
    `curves.png` atomically after every epoch, so they are never half-written or duplicated.

    Args:
        run_dir: the run folder.
        initial_history: list of per-epoch dicts from an earlier part of the run (resume).
        curves: also draw `curves.png`.
    """

    def __init__(self, run_dir, initial_history=None, curves=True):
        super().__init__()
        self.run_dir = Path(run_dir)
        self.rows = [dict(row) for row in (initial_history or [])]
        self.curves = curves

    def on_epoch_end(self, epoch, logs=None):
        row = {"epoch": epoch + 1}
        row.update({k: float(v) for k, v in (logs or {}).items() if np.ndim(v) == 0})
        if "learning_rate" not in row and self.model is not None:
            row["learning_rate"] = _current_lr(self.model)
        self.rows = [r for r in self.rows if r["epoch"] < epoch + 1] + [row]
        write_text(self.run_dir / HISTORY_FILE, history_to_csv(self.rows))
        if self.curves:
            plot_curves(self.rows, self.run_dir / CURVES_FILE)


def history_to_csv(rows):
    """CSV text of per-epoch dicts (columns: epoch, then sorted keys)."""
    keys = sorted({k for row in rows for k in row if k != "epoch"})
    lines = [",".join(["epoch"] + keys)]
    for row in rows:
        values = [str(row["epoch"])] + ["" if row.get(k) is None else repr(row[k]) for k in keys]
        lines.append(",".join(values))
    return "\n".join(lines) + "\n"


def plot_curves(rows, path):
    """Draws one panel per quantity (train and `val_` together) into `path` (PNG)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    names = sorted({k[4:] if k.startswith("val_") else k for row in rows for k in row} - {"epoch"})
    if not names:
        return
    epochs = [row["epoch"] for row in rows]
    figure = Figure(figsize=(4 * min(len(names), 4), 3 * math.ceil(len(names) / 4)))
    for index, name in enumerate(names):
        axis = figure.add_subplot(math.ceil(len(names) / 4), min(len(names), 4), index + 1)
        for key, label in ((name, "train"), (f"val_{name}", "val")):
            values = [row.get(key) for row in rows]
            if any(v is not None for v in values):
                axis.plot(epochs, [np.nan if v is None else v for v in values], label=label)
        axis.set_title(name)
        axis.set_xlabel("epoch")
        if name == "learning_rate":
            axis.set_yscale("log")
        axis.legend()
    figure.tight_layout()
    save_figure(figure, path)
