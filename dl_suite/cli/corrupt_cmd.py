"""`dl-suite corrupt CONFIG | --input DIR --output DIR`: corrupted copies for the robustness assay."""

from dl_suite.cli.common import say


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "corrupt", help="write corrupted copies of images (noise at a given SNR, blur, ...) with their parameters")
    parser.add_argument("config", nargs="?", default=None,
                        help="config whose [robustness] section chooses families and levels (optional)")
    parser.add_argument("--input", default=None, help="folder of images, or with images/ + masks/ "
                        "(default: the config's [eval] or [test] data, as [robustness] split says)")
    parser.add_argument("--output", default=None, help="new folder for the copies (default: [robustness] corrupt_output_dir)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE")
    parser.set_defaults(run=run)


def run(args):
    from dl_suite.workflows.corrupt import corrupt_from_config

    rows, output = corrupt_from_config(args.config, args.overrides, args.input, args.output)
    say(f"Wrote {len(rows)} corrupted images with their parameters to {output} (corruptions.csv, corruptions.json).")
    return 0
