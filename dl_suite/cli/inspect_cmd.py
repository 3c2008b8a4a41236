"""`dl-suite inspect CONFIG`: summary text and graph PNG of the configured model."""

import logging
from pathlib import Path

from dl_suite.cli.common import add_config_arguments, load, say

logger = logging.getLogger(__name__)


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "inspect", help="build the configured model, write its summary and graph")
    add_config_arguments(parser)
    parser.add_argument("--out", default=None,
                        help="output folder (default: the config file's folder)")
    parser.set_defaults(run=run)


def model_input_shape(model_cfg):
    return (model_cfg["image_height"], model_cfg["image_width"], model_cfg["image_channels"])


def run(args):
    cfg = load(args)
    from dl_suite.io import write_text
    from dl_suite.models import build_model
    from dl_suite.models.flops import count_gflops

    section = dict(cfg["model"])
    name = section.pop("name")
    model = build_model(name, model_input_shape(section), section["num_classes"], **section)
    lines = []
    model.summary(print_fn=lambda line, *_, **__: lines.append(line), expand_nested=True)
    gflops = count_gflops(model)
    lines.append(f"Forward GFLOPs (batch 1): {gflops:.3f}")
    out = Path(args.out) if args.out else Path(args.config).resolve().parent
    stem = f"{model.name}_summary"
    summary_path = write_text(out / f"{stem}.txt", "\n".join(lines) + "\n")
    say(f"model '{model.name}': {model.count_params():,} parameters, {gflops:.2f} GFLOPs")
    say(f"summary: {summary_path}")
    try:
        import pydot  # noqa: F401
        import keras

        png = out / f"{model.name}_graph.png"
        keras.utils.plot_model(model, to_file=str(png), show_shapes=True, expand_nested=True)
        say(f"graph: {png}")
    except ImportError:
        say("graph: skipped (install pydot and graphviz to draw the model graph)")
    except Exception as err:  # plot_model raises plain errors when graphviz's `dot` is absent
        say(f"graph: skipped ({err})")
    return 0
