"""`dl-suite audit CONFIG`: where the annotation and the image disagree, image by image."""

from dl_suite.cli.common import add_config_arguments, load, say


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "audit", help="list unannotated, partly annotated and faint objects in the config's data")
    add_config_arguments(parser)
    parser.add_argument("--split", nargs="+", choices=("train", "val", "eval", "test"),
                        default=["train", "val", "eval", "test"],
                        help="which of the config's data folders (default: all it names)")
    parser.add_argument("--csv", default=None, help="also write the findings to this CSV file")
    parser.add_argument("--invert", action="store_true",
                        help="objects darker than the background (default: brighter)")
    parser.add_argument("--sigma", type=float, default=2.0, help="Gaussian smoothing (px)")
    parser.add_argument("--min-size", type=int, default=30,
                        help="signal objects smaller than this are ignored (px)")
    parser.add_argument("--partial", type=float, default=0.5,
                        help="annotated share below which an object is 'partly annotated'")
    parser.add_argument("--faint", type=float, default=0.1,
                        help="contrast (0 background, 1 foreground) below which it is 'faint'")
    parser.add_argument("--write-ignore", default=None, metavar="FOLDER",
                        help="write ignore masks of each audited split's findings to "
                             "FOLDER/<split>, for [train] ignore_datapath, val_ignore_datapath, "
                             "[eval] / [test] ignore_datapath (those folders must be new or empty)")
    parser.add_argument("--ignore-margin", type=int, default=2,
                        help="grow each finding's region by this many px in the ignore masks")
    parser.set_defaults(run=run)


def run(args):
    cfg = load(args)
    from dl_suite.errors import DataError
    from dl_suite.io.tables import write_csv
    from dl_suite.workflows.audit import (audit_config, finding_lines, findings_table,
                                          ignore_lines, summary_table)

    written = {}
    results = audit_config(cfg, args.split, sigma=args.sigma, invert=args.invert,
                           min_size=args.min_size, partial=args.partial, faint=args.faint,
                           ignore_dir=args.write_ignore, margin=args.ignore_margin,
                           written=written)
    if not results:
        raise DataError("The config names no image/mask folders for "
                        f"{', '.join(args.split)}: nothing to audit.")
    for line in summary_table(results):
        say(line)
    say()
    for line in finding_lines(results):
        say(line)
    if args.csv:
        try:
            csv_path = write_csv(args.csv, findings_table(results))
        except OSError as error:
            raise DataError(f"Cannot write the findings to '{args.csv}' ({error.strerror}): "
                            "give --csv a path in a folder you can write to.") from error
        say(f"\nFindings written to {csv_path}")
    if args.write_ignore:
        for line in ignore_lines(written, args.write_ignore):
            say(line)
    return 0
