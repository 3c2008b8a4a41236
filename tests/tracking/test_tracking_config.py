"""The [tracking] section: INI, canonical JSON and legacy `tracking_*` keys, defaults, errors."""

import json

import pytest

from dl_suite.config import ConfigError, load_config
from dl_suite.tracking.linking import DISTANCE_UNITS, METHODS, TrackingParams
from dl_suite.config.schema import property_schema


def test_ini_and_legacy_json_agree(tmp_path):
    (tmp_path / "a.config").write_text(
        '[tracking]\nmethod = "overlap"\nmax_gap = 2\ndivisions = False\nlabels = "v.tif"\n')
    (tmp_path / "b.json").write_text(json.dumps(
        {"tracking_method": "overlap", "tracking_max_gap": 2, "tracking_divisions": "False",
         "tracking_labels": "v.tif"}))
    a, b = load_config(tmp_path / "a.config"), load_config(tmp_path / "b.json")
    assert dict(a["tracking"]) == dict(b["tracking"])
    assert a["tracking"]["labels"] == str(tmp_path / "v.tif")
    params = TrackingParams.from_config(a["tracking"])
    assert (params.method, params.max_gap, params.divisions, params.max_distance) == ("overlap", 2, False, 15.0)


def test_schema_enums_match_the_code():
    assert property_schema("tracking", "method")["enum"] == list(METHODS)
    assert sorted(property_schema("tracking", "distance_unit")["enum"]) == sorted(DISTANCE_UNITS)


def test_bad_values_are_reported(tmp_path):
    (tmp_path / "c.config").write_text('[tracking]\nmethod = "nearest"\nmax_gap = -1\n')
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "c.config")
    text = str(info.value)
    assert "method" in text and "max_gap" in text
