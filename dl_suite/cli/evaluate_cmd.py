"""`dl-suite evaluate CONFIG [--run RUN_DIR] [--split eval|test|val]`."""

from dl_suite.cli.common import add_config_arguments, load, say

# The numbers printed on the terminal; every score is in evaluation.csv and summary.json.
HEADLINE = ("dice", "iou", "precision", "recall", "pixel_accuracy", "v_rand", "v_info", "v_rand_cc",
            "ap_50", "pq")


def add_parser(subparsers):
    parser = subparsers.add_parser("evaluate", help="score a trained model on held-out images")
    add_config_arguments(parser)
    parser.add_argument("--run", dest="run_dir", default=None, help="run folder (default: latest under train.model_dir)")
    parser.add_argument("--split", default="eval", choices=("eval", "test", "val"),
                        help="which config section's images to score (default: eval)")
    parser.set_defaults(run=run)


def run(args):
    from dl_suite.workflows.evaluate import evaluate

    result = evaluate(load(args), run=args.run_dir, split=args.split)
    mean = dict(result["summary"]["mean"])
    isbi = result["summary"].get("isbi")
    if isbi:  # V_Rand / V_Info pooled over the whole set (the ISBI convention), not image means
        mean.update(v_rand=isbi["v_rand"], v_info=isbi["v_info"], v_rand_cc=isbi["v_rand_cc"])
    shown = [k for k in HEADLINE if isinstance(mean.get(k), float)]
    say(f"Evaluated {result['summary']['num_images']} images (threshold {result['summary']['threshold']:.3f}): "
        + ", ".join(f"{k} {mean[k]:.4f}" for k in shown))
    say(f"Results: {result['output_dir']}")
    return 0
