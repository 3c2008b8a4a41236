"""`dl-suite track CONFIG [--labels VIDEO] [--image VIDEO] [--output DIR] [--ground-truth DIR]`."""

from dl_suite.cli.common import add_config_arguments, load, say


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "track", help="track cells over time; export TrackMate XML, CTC results and CSV tables")
    add_config_arguments(parser)
    parser.add_argument("--labels", default=None, help="label video (default: tracking.labels)")
    parser.add_argument("--image", default=None,
                        help="raw video; segmented first when no label video is given (default: tracking.image)")
    parser.add_argument("--output", default=None, help="output folder (default: tracking.output_dir)")
    parser.add_argument("--ground-truth", dest="ground_truth", default=None,
                        help="CTC ground-truth folder (TRA/, SEG/) to score against")
    parser.add_argument("--run", dest="run_dir", default=None,
                        help="run folder of the model that segments (default: latest under train.model_dir)")
    parser.set_defaults(run=run)


def run(args):
    from dl_suite.workflows.track import track

    report = track(load(args), labels_path=args.labels, image_path=args.image,
                   output_dir=args.output, ground_truth=args.ground_truth, run=args.run_dir)
    say(f"Tracked {report['num_spots']} objects into {report['num_tracks']} tracks "
        f"({report['num_divisions']} divisions). Results: {report['folder']}")
    scores = report["scores"]
    if scores:
        shown = ("SEG", "DET", "TRA", "division_f1")
        say("Scores: " + ", ".join(f"{k} {scores[k]:.3f}" for k in shown if k in scores))
    return 0
