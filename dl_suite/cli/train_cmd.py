"""`dl-suite train CONFIG [--set ...] [--resume [RUN_DIR]]`."""

from dl_suite.cli.common import add_config_arguments, load, say


def add_parser(subparsers):
    parser = subparsers.add_parser("train", help="train the configured model (a new run folder)")
    add_config_arguments(parser)
    parser.add_argument(
        "--resume", nargs="?", const="latest", default=None, metavar="RUN_DIR",
        help="continue an interrupted run (default: the latest run under train.model_dir)",
    )
    parser.set_defaults(run=run)


def run(args):
    from dl_suite.workflows import runs
    from dl_suite.workflows.train import train

    cfg = load(args)
    resume = args.resume
    if resume == "latest":
        resume = runs.latest_resumable(cfg["train"]["model_dir"])
    try:
        run_dir = train(cfg, resume=resume)
    except KeyboardInterrupt:
        say(f"Training interrupted. Continue it with: dl-suite train {args.config} --resume")
        raise
    if run_dir is None:  # a multi-worker run's other workers
        say("Training finished on this worker; the chief worker wrote the run folder.")
        return 0
    say(f"Training finished. Run folder: {run_dir}")
    say(f"  model:   {run_dir / runs.BEST_MODEL}")
    say(f"  history: {run_dir / 'history.csv'}")
    return 0
