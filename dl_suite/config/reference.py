"""The config reference (docs/config_reference.md), generated from the schema and the dialects.

`tests/config/test_reference.py` fails when the committed document differs from this text;
REGENERATE is the one command that rewrites both generated files.
"""

import json

from dl_suite.config import dialects
from dl_suite.config import schema as schema_lib

REFERENCE_PATH = "docs/config_reference.md"
JSON_SCHEMA_PATH = "docs/dl-suite.schema.json"
REGENERATE = (f"PYTHONPATH=. python3 -m dl_suite schema --reference {REFERENCE_PATH} "
              f"--json {JSON_SCHEMA_PATH}")


def legacy_names():
    """(section, key) -> list of the names the legacy dialects write it under (besides its own)."""
    names = {}
    for (section, key), target in dialects.KEY_RENAMES.items():
        names.setdefault(target, []).append(f"INI `[{section}] {key}`")
    for (section, wrong), right in dialects.MISSPELLINGS.items():
        names.setdefault((section, right), []).append(f"INI `[{section}] {wrong}` (misspelling)")
    for name, target in dialects.LEGACY_JSON_KEYS.items():
        note = " (+1: counts poolings)" if name in dialects.LEGACY_JSON_VALUES else ""
        names.setdefault(target, []).append(f"JSON `{name}`{note}")
    return names


def _types(spec):
    types = spec.get("type", [])
    types = types if isinstance(types, list) else [types]
    words = []
    for kind in types:
        if kind == "array":
            item = spec.get("items", {}).get("type", "any")
            size = ""
            if spec.get("minItems") is not None and spec.get("minItems") == spec.get("maxItems"):
                size = f"{spec['minItems']} "
            words.append(f"list of {size}{' or '.join(item) if isinstance(item, list) else item}")
        else:
            words.append(kind)
    return " or ".join(words) or "any"


def _allowed(spec):
    parts = []
    enum = spec.get("enum") or spec.get("items", {}).get("enum")
    if enum:
        parts.append(", ".join(f"`{json.dumps(v)}`" for v in enum))
    for source in (spec, spec.get("items", {})):
        for word, sign in (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="),
                           ("exclusiveMaximum", "<")):
            if source.get(word) is not None:
                parts.append(f"{sign} {source[word]}")
    if spec.get("pattern"):
        parts.append(f"pattern `{spec['pattern']}`")
    return "; ".join(parts)


def _cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def _aliases_table():
    tables = (("model.name", dialects.MODEL_ALIASES), ("model.loss", dialects.LOSS_ALIASES),
              ("model.metrics", dialects.METRIC_ALIASES),
              ("image.normalization", dialects.NORMALIZATION_ALIASES),
              ("model.activation", dialects.ACTIVATION_ALIASES))
    lines = ["## Legacy value names", "", "Values the old tools wrote, read as the value beside them.",
             "", "| key | legacy value | read as |", "|---|---|---|"]
    for key, table in tables:
        lines += [f"| `{key}` | `{old}` | `{new}` |" for old, new in table.items()]
    return lines


def reference_markdown():
    """The whole reference document (Markdown text)."""
    sections = schema_lib.section_properties()
    legacy = legacy_names()
    lines = [
        "# dl-suite config reference", "",
        "Generated from `dl_suite/config/schema/*.json` and `dl_suite/config/dialects.py`; do not "
        f"edit by hand. Regenerate with `{REGENERATE}`.", "",
        "A config has sections (`[model]` in INI, `\"model\": {...}` in JSON) holding keys. Every "
        "key is optional: the default is used when it is absent. Paths are relative to the config "
        "file's folder. INI values are Python-style literals (`True`, `None`, `\"text\"`, "
        "`(3, 3)`); JSON uses `true`, `null`. In INI a key keeps its section and name (the "
        "column *legacy names* lists only other names); the flat legacy JSON dialect writes the "
        "keys listed there. JSON configs may name the editor schema with `\"$schema\": "
        f"\"{JSON_SCHEMA_PATH}\"` (made by `dl-suite schema --json FILE`).", "",
        f"Schema version {schema_lib.SCHEMA_VERSION}. Sections: "
        + ", ".join(f"[`{s}`](#{s})" for s in sorted(sections)) + ".", "",
    ]
    for section in sorted(sections):
        lines += [f"## {section}", "",
                  "| key | type | default | allowed | meaning | legacy names |",
                  "|---|---|---|---|---|---|"]
        for key, spec in sections[section].items():
            default = json.dumps(spec.get("default"))
            path = " (path)" if spec.get("x-path") else ""
            lines.append(
                f"| `{key}` | {_types(spec)}{path} | `{_cell(default)}` | {_cell(_allowed(spec))} | "
                f"{_cell(spec.get('description', ''))} | {_cell(', '.join(legacy.get((section, key), [])))} |"
            )
        lines.append("")
    lines += _aliases_table()
    return "\n".join(lines) + "\n"


def json_schema_text():
    """The editors' JSON Schema file (docs/dl-suite.schema.json) as text."""
    return json.dumps(schema_lib.editor_schema(), indent=1) + "\n"
