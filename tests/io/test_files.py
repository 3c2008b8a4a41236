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
