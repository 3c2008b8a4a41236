"""`dl-suite doctor`: versions, visible GPUs, memory, and which optional parts are missing."""

from dl_suite.cli.common import say


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "doctor", help="check the installation: versions, GPUs, memory, optional dependencies")
    parser.set_defaults(run=run)


def run(args):
    from dl_suite.doctor import format_report, missing_required, report

    data = report()
    for line in format_report(data):
        say(line)
    missing = missing_required(data)
    if missing:
        say(f"Missing required package(s): {', '.join(missing)}. Fix: pip install -e . "
            "(from the dl-suite folder).")
        return 1
    return 0
