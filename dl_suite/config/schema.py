"""Assembles the canonical JSON Schema from the fragment files in `schema/`.

Each fragment is `{"section": NAME, "properties": {KEY: JSON-Schema}}`; fragments adding keys to
the same section are merged. Every property carries a `default` and a `description`; path-valued
keys are marked with `"x-path": true` and resolved relative to the config file's folder.
"""

import copy
import functools
import json
from pathlib import Path

SCHEMA_VERSION = 1
SCHEMA_DIR = Path(__file__).with_name("schema")
SCHEMA_KEY_DESCRIPTION = ("Path or URL of the JSON Schema file for editors "
                          "(`dl-suite schema --json FILE`); ignored by dl-suite.")


@functools.lru_cache(maxsize=1)
def _sections():
    sections = {}
    for path in sorted(SCHEMA_DIR.glob("*.json")):
        fragment = json.loads(path.read_text(encoding="utf-8"))
        target = sections.setdefault(fragment["section"], {})
        for key, spec in fragment["properties"].items():
            if key in target:
                raise RuntimeError(f"Schema key {fragment['section']}.{key} is defined twice ({path.name}).")
            target[key] = spec
    return sections


def section_properties():
    """Mapping section -> {key: property schema} (a deep copy)."""
    return copy.deepcopy(_sections())


def canonical_schema():
    """The whole canonical config as one JSON Schema (draft 2020-12)."""
    properties = {}
    for section, props in _sections().items():
        properties[section] = {
            "type": "object",
            "properties": copy.deepcopy(props),
            "additionalProperties": False,
        }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "dl-suite config",
        "type": "object",
        "properties": {
            "$schema": {"type": "string", "description": SCHEMA_KEY_DESCRIPTION},
            "schema_version": {"type": "integer", "description": "Config schema version."},
            **properties,
        },
        "additionalProperties": False,
    }


def editor_schema():
    """The canonical schema as exported for editors (`dl-suite schema --json FILE`).

    JSON configs name it with `"$schema": "PATH"` for completion and checking as you type.
    """
    schema = canonical_schema()
    schema["description"] = ("dl-suite canonical JSON config (schema version "
                             f"{SCHEMA_VERSION}); made by `dl-suite schema --json FILE`.")
    return schema


def defaults():
    """Mapping section -> {key: default value} for every key of the schema."""
    return {
        section: {key: copy.deepcopy(spec.get("default")) for key, spec in props.items()}
        for section, props in _sections().items()
    }


def path_keys():
    """Set of (section, key) whose values are file-system paths."""
    return {
        (section, key)
        for section, props in _sections().items()
        for key, spec in props.items()
        if spec.get("x-path")
    }


def property_schema(section, key):
    """The schema of one key, or None."""
    return _sections().get(section, {}).get(key)
