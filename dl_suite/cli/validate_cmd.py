"""`dl-suite validate CONFIG`: print the resolved canonical config, or every error at once."""

from dl_suite.cli.common import add_config_arguments, load, say


def add_parser(subparsers):
    parser = subparsers.add_parser("validate", help="check a config and print it resolved")
    add_config_arguments(parser)
    parser.set_defaults(run=run)


def run(args):
    cfg = load(args)
    for warning in cfg.warnings:
        say(f"# warning: {warning}")
    say(cfg.to_json())
    return 0
