"""`dl-suite schema [--reference FILE] [--json FILE]`: the config reference and the editors' schema."""

from pathlib import Path

from dl_suite.cli.common import say


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "schema", help="write the config reference (Markdown) and the JSON Schema for editors")
    parser.add_argument("--reference", metavar="FILE", default=None,
                        help="write the Markdown reference of every key (docs/config_reference.md)")
    parser.add_argument("--json", metavar="FILE", default=None,
                        help="write the JSON Schema for editors (docs/dl-suite.schema.json)")
    parser.set_defaults(run=run)


def run(args):
    from dl_suite.config.reference import json_schema_text, reference_markdown
    from dl_suite.io import write_text

    if not args.reference and not args.json:
        say(json_schema_text().rstrip("\n"))
        return 0
    for path, make in ((args.reference, reference_markdown), (args.json, json_schema_text)):
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            write_text(Path(path), make())
            say(f"Wrote {path}")
    return 0
