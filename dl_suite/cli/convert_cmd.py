"""`dl-suite convert CONFIG --to canonical|ini|json`: the same config in another dialect."""

from pathlib import Path

from dl_suite.cli.common import add_config_arguments, load, say
from dl_suite.errors import UserError


def add_parser(subparsers):
    parser = subparsers.add_parser("convert", help="write a config in another dialect")
    add_config_arguments(parser)
    parser.add_argument("--to", required=True, choices=("canonical", "ini", "json"),
                        help="target dialect: canonical JSON, INI, or the flat legacy JSON")
    parser.add_argument("--output", "-o", default=None,
                        help="file to write (default: print to the terminal); paths are "
                             "written relative to its folder (printed: the config's folder)")
    parser.set_defaults(run=run)


def run(args):
    from dl_suite.config.convert import convert
    from dl_suite.io import write_text

    if args.output and Path(args.output).exists():
        raise UserError(f"'{args.output}' exists already; dl-suite never overwrites a file. "
                        "Choose another --output name or delete that file first.")
    cfg = load(args)
    # paths are written relative to where the converted file goes (as configs are read back)
    folder = Path(args.output).resolve().parent if args.output else None
    text, notes = convert(cfg, args.to, relative_to=folder)
    for note in notes:
        say(f"# note: {note}")
    if args.output:
        write_text(Path(args.output), text)
        say(f"Wrote {args.output}")
    else:
        say(text.rstrip("\n"))
    return 0
