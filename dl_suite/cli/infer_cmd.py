"""`dl-suite infer CONFIG [--input PATH] [--output DIR] [--run RUN_DIR|PACKAGE] [--overwrite] [--shard I/N]`."""

from dl_suite.cli.common import add_config_arguments, load, say


def add_parser(subparsers):
    parser = subparsers.add_parser("infer", help="segment new images with a trained model")
    add_config_arguments(parser)
    parser.add_argument("--input", default=None, help="image file or folder (default: infer.images_dir)")
    parser.add_argument("--output", default=None, help="output folder (default: infer.output_dir)")
    parser.add_argument("--run", dest="run_dir", default=None,
                        help="run folder, or a bioimage.io package exported by dl-suite (.zip or "
                             "folder) (default: latest run under train.model_dir)")
    parser.add_argument("--overwrite", action="store_true", help="replace results that already exist")
    parser.add_argument("--shard", default=None, metavar="I/N",
                        help="segment only shard I of N (1-based): every N-th file of the sorted "
                             "input list, starting at the I-th (e.g. a SLURM job array)")
    parser.set_defaults(run=run)


def run(args):
    from dl_suite.inference.shards import parse_shard
    from dl_suite.workflows.infer import infer

    shard = parse_shard(args.shard)  # a bad value fails before the model is loaded
    report = infer(load(args), run=args.run_dir, input_path=args.input, output_dir=args.output,
                   overwrite=args.overwrite, shard=shard)
    if shard is not None:
        say(f"Shard {shard}:")
    say(f"Segmented {report['done']} image(s), skipped {report['skipped']} already done, "
        f"{report['failed']} failed. Results: {report['output_dir']}")
    for name, reason in report.get("failures", {}).items():
        say(f"  failed: {name}: {reason}")
    return 1 if report["failed"] else 0
