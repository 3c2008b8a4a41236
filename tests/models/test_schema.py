"""The config schema and the model builders agree (keys, defaults, model names)."""

import inspect
import json
from pathlib import Path

from dl_suite.models import MODELS

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "dl_suite" / "config" / "schema"


def _model_properties():
    props = {}
    for path in SCHEMA_DIR.glob("*.json"):
        fragment = json.loads(path.read_text())
        if fragment.get("section") == "model":
            props.update(fragment["properties"])
    return props


def test_every_builder_keyword_is_a_config_key_with_the_same_default():
    props = _model_properties()
    zoo = json.loads((SCHEMA_DIR / "model_zoo.json").read_text())["properties"]
    for name in MODELS.names():
        for key, param in inspect.signature(MODELS.get(name)).parameters.items():
            if param.kind is not param.KEYWORD_ONLY:
                continue
            assert key in props, f"{name}: keyword `{key}` is not a model config key"
            if key in zoo and zoo[key]["default"] is not None:
                default = param.default
                default = list(default) if isinstance(default, tuple) else default
                assert zoo[key]["default"] == default, (name, key)


def test_schema_model_names_are_the_registry_keys():
    enum = _model_properties()["name"].get("enum")
    if enum is not None:
        assert sorted(enum) == MODELS.names()
