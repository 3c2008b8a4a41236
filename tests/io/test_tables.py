"""CSV rows read back (the run's history.csv for the report's training curves)."""

from dl_suite.callbacks.history import history_to_csv
from dl_suite.io import write_text
from dl_suite.io.tables import read_csv_rows


def test_history_csv_round_trip(tmp_path):
    rows = [{"epoch": 1, "loss": 0.5, "val_loss": None, "learning_rate": 1e-3},
            {"epoch": 2, "loss": 0.25, "val_loss": 0.3, "learning_rate": 3e-4}]
    path = write_text(tmp_path / "history.csv", history_to_csv(rows))
    assert read_csv_rows(path) == rows
    assert read_csv_rows(tmp_path / "absent.csv") is None
