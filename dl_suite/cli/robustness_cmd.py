"""`dl-suite robustness CONFIG [--run RUN ...]`: corruptions and attacks -> robustness report."""

from dl_suite.cli.common import add_config_arguments, load, say


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "robustness", help="score trained runs on corrupted and adversarial images (IoU ratio to clean)")
    add_config_arguments(parser)
    parser.add_argument("--run", dest="run_dirs", action="append", default=None, metavar="RUN_DIR",
                        help="run folder (repeatable: several runs give a heatmap; default: latest run)")
    parser.set_defaults(run=run)


def run(args):
    from dl_suite.workflows.robustness import robustness

    result = robustness(load(args), run_dirs=args.run_dirs)
    for run_name, families in result["mean_robustness"].items():
        say(f"{run_name}: mean robustness " + ", ".join(f"{f} {v:.3f}" for f, v in families.items()))
    say(f"Report: {result['output_dir']} (robustness.csv, robustness.md, plots)")
    return 0
