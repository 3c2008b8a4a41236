import pytest

from dl_suite.errors import DataError
from dl_suite.io import read_json, remove_file


def test_read_json_default_and_corrupt(tmp_path):
    assert read_json(tmp_path / "none.json", default={}) == {}
    (tmp_path / "ok.json").write_text('{"a": 1}')
    assert read_json(tmp_path / "ok.json") == {"a": 1}
    (tmp_path / "bad.json").write_text('{"a": ')
    with pytest.raises(DataError, match="bad.json"):
        read_json(tmp_path / "bad.json")
    remove_file(tmp_path / "ok.json")
    remove_file(tmp_path / "ok.json")
    assert not (tmp_path / "ok.json").exists()


def _package_sources():
    from pathlib import Path

    import dl_suite

    root = Path(dl_suite.__file__).parent
    return {p.relative_to(root).as_posix(): p.read_text() for p in root.rglob("*.py")}


def test_model_files_load_and_save_only_through_io():
    """One `.keras` loader and one saver: every model file goes through dl_suite/io/files.py."""
    users = {name for name, text in _package_sources().items()
             if "keras.saving.load_model(" in text or "model.save(" in text
             or ".save_weights(" in text}
    assert users == {"io/files.py"}


def test_load_keras_model_round_trip_and_damaged_file(tmp_path):
    import keras
    import numpy as np

    from dl_suite.io import load_keras_model, save_keras_model

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, name="d")])
    save_keras_model(model, tmp_path / "m.keras")
    save_keras_model(model, tmp_path / "m.weights.h5")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.keras", "m.weights.h5"]
    loaded = load_keras_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(loaded.get_weights()[0], model.get_weights()[0])
    (tmp_path / "cut.keras").write_bytes((tmp_path / "m.keras").read_bytes()[:100])
    with pytest.raises(DataError, match="cut.keras"):
        load_keras_model(tmp_path / "cut.keras")
