"""Arguments and helpers shared by the command modules."""

import logging
import os
import sys


def add_config_arguments(parser):
    """CONFIG plus repeatable `--set SECTION.KEY=VALUE`."""
    parser.add_argument("config", help="config file (.config/.ini or .json)")
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE",
        help="override a config value, e.g. --set train.epochs=1 (repeatable)",
    )


def load(args):
    """Loads and validates the config named on the command line."""
    from dl_suite.config import load_config

    return load_config(args.config, args.overrides)


def setup_logging(verbose=False):
    """INFO (or DEBUG) messages on stderr; TensorFlow's start-up chatter silenced."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s" if verbose else "%(message)s",
        stream=sys.stderr,
    )
    for noisy in ("tensorflow", "absl", "h5py", "matplotlib", "PIL"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def say(message=""):
    """A line for the user on stdout (results and where they went)."""
    print(message, flush=True)
