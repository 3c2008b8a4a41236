"""docs/config_reference.md and docs/dl-suite.schema.json are generated from the schema."""

import json

import jsonschema
import pytest

from dl_suite.cli.main import main
from dl_suite.config import load_config
from dl_suite.config import schema as schema_lib
from dl_suite.config.reference import (
    JSON_SCHEMA_PATH, REFERENCE_PATH, REGENERATE, json_schema_text, reference_markdown,
)
from tests.conftest import REPO

STALE = "{} differs from the schema (a key was added or changed). Regenerate it, from the repository root: " + REGENERATE


@pytest.mark.parametrize("path, make", [(REFERENCE_PATH, reference_markdown), (JSON_SCHEMA_PATH, json_schema_text)])
def test_generated_document_is_up_to_date(path, make):
    file = REPO / path
    if not file.is_file() or file.read_text(encoding="utf-8") != make():
        pytest.fail(STALE.format(path), pytrace=False)  # one line, no 50 kB diff


def test_reference_lists_every_key_with_default_and_legacy_names():
    text = reference_markdown()
    for section, props in schema_lib.section_properties().items():
        body = text.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
        for key, spec in props.items():
            row = next(line for line in body.splitlines() if line.startswith(f"| `{key}` |"))
            assert f"`{json.dumps(spec['default'])}`".replace("|", "\\|") in row, (section, key)
    rows = {line.split("|")[1].strip(): line for line in text.splitlines() if line.startswith("| `")}
    assert "JSON `model_n_filters`" in rows["`base_filters`"]
    assert "`\"bce_dice\"`" in rows["`loss`"] and "JSON `model_lossfunction`" in rows["`loss`"]
    assert "| `TensorflowUNet` | `unet` |" in text


def test_exported_schema_checks_a_shipped_config_and_accepts_dollar_schema(tmp_path):
    schema = json.loads((REPO / JSON_SCHEMA_PATH).read_text(encoding="utf-8"))
    shipped = load_config(REPO / "projects" / "UNet" / "ISBI2012" / "train_eval_infer.config").to_dict()
    document = {"$schema": f"../{JSON_SCHEMA_PATH}", **shipped}
    jsonschema.validate(document, schema)
    with pytest.raises(jsonschema.ValidationError, match="unett"):
        jsonschema.validate({**document, "model": {**document["model"], "name": "unett"}}, schema)
    path = tmp_path / "with_schema.json"
    path.write_text(json.dumps(document))
    assert load_config(path)["model"]["base_filters"] == shipped["model"]["base_filters"]


def test_schema_command_writes_both_files(tmp_path, capsys):
    md, js = tmp_path / "docs" / "ref.md", tmp_path / "docs" / "s.json"
    assert main(["schema", "--reference", str(md), "--json", str(js)]) == 0
    assert md.read_text() == reference_markdown() and json.loads(js.read_text()) == schema_lib.editor_schema()
