"""`dl-suite demo`: the embedded default job on synthetic data (no download)."""

from dl_suite.cli.common import say


def add_parser(subparsers):
    parser = subparsers.add_parser("demo", help="train, evaluate and infer on synthetic nuclei")
    parser.add_argument("--output", default="dl-suite-demo", help="folder for data, runs and results")
    parser.add_argument("--epochs", type=int, default=25, help="training epochs (default 25)")
    parser.add_argument("--steps", type=int, default=12, help="batches per epoch (default 12)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE")
    parser.add_argument("--video", action="store_true",
                        help="time-lapse demo: synthetic video -> train -> segment -> track -> export -> score")
    parser.set_defaults(run=run)


def run(args):
    if args.video:
        return _run_video(args)
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


def _run_video(args):
    from dl_suite.workflows.demo_video import run_video_demo

    result = run_video_demo(args.output, epochs=args.epochs, steps=args.steps, overrides=args.overrides)
    scores, times = result["scores"], result["times"]
    say("")
    say(f"Video demo: {result['num_tracks']} tracks, {result['num_divisions']} divisions found.")
    say("  Scores on an unseen synthetic video: " + ", ".join(
        f"{k} {scores[k]:.3f}" for k in ("SEG", "DET", "TRA", "division_f1") if k in scores))
    say("  Times: " + ", ".join(f"{k[:-2]} {v:.0f} s" for k, v in times.items()))
    say(f"  tracks, TrackMate XML, CTC results: {result['folder']}")
    return 0
