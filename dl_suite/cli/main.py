"""`dl-suite` / `python -m dl_suite`: parse arguments, run one command, turn user errors into exit 2.

Commands are the modules `dl_suite/cli/*_cmd.py`; each defines `add_parser(subparsers)`
(which sets `run`) and `run(args) -> int`. Heavy imports happen inside `run`.
"""

import argparse
import importlib
import os
import pkgutil
import sys

# Before anything imports TensorFlow: keep its C++ start-up chatter out of the user's terminal.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import dl_suite
from dl_suite.cli.common import setup_logging

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130


def _command_modules():
    package = importlib.import_module("dl_suite.cli")
    names = sorted(m.name for m in pkgutil.iter_modules(package.__path__) if m.name.endswith("_cmd"))
    return [importlib.import_module(f"dl_suite.cli.{name}") for name in names]


def build_parser():
    parser = argparse.ArgumentParser(
        prog="dl-suite",
        description="Config-file-driven deep learning for microscopy image segmentation.",
    )
    parser.add_argument("--version", action="version", version=f"dl-suite {dl_suite.__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="more detailed log messages")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _command_modules():
        module.add_parser(subparsers)
    return parser


def _is_user_error(exc):
    from dl_suite.errors import UserError
    from dl_suite.registry import UnknownNameError

    return isinstance(exc, (UserError, UnknownNameError))


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return EXIT_USER_ERROR
    setup_logging(args.verbose)
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        sys.stderr.write("\ndl-suite: interrupted.\n")
        return EXIT_INTERRUPTED
    except Exception as exc:  # user mistakes become one message, bugs keep their traceback
        if _is_user_error(exc):
            if args.verbose:  # -v shows where it came from, for bug reports
                import traceback

                traceback.print_exc()
            sys.stderr.write(f"dl-suite: error: {exc}\n")
            return EXIT_USER_ERROR
        raise


if __name__ == "__main__":
    raise SystemExit(main())
