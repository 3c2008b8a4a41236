"""`dl-suite demo`: the embedded default job on synthetic data (no download)."""

from dl_suite.cli.common import say


def add_parser(subparsers):
    parser = subparsers.add_parser("demo", help="train, evaluate and infer on synthetic nuclei")
    parser.add_argument("--output", default="dl-suite-demo", help="folder for data, runs and results")
    parser.add_argument("--epochs", type=int, default=25, help="training epochs (default 25)")
    parser.add_argument("--steps", type=int, default=12, help="batches per epoch (default 12)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE")
    parser.set_defaults(run=run)


def run(args):
    from dl_suite.workflows.demo import run_demo

    result = run_demo(args.output, epochs=args.epochs, steps=args.steps, overrides=args.overrides)
    say("")
    say(f"Demo finished in {result['total_seconds']:.0f} s (training {result['train_seconds']:.0f} s).")
    say(f"  Mean Dice on {'held-out'} synthetic test images: {result['dice']:.3f}  (IoU {result['iou']:.3f})")
    say(f"  config:      {result['config']}")
    say(f"  run folder:  {result['run_dir']}  (model.keras, history.csv, curves.png, epoch_change_infer/)")
    say(f"  evaluation:  {result['evaluation_dir']}")
    say(f"  predictions: {result['predictions_dir']}")
    return 0
