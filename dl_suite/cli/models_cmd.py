"""`dl-suite models`: every registered model with parameter count and forward GFLOPs."""

from dl_suite.cli.common import say


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "models", help="list the model zoo with parameters and GFLOPs at a given size")
    parser.add_argument("--size", type=int, default=256,
                        help="image height and width (default 256; rounded up to each "
                             "model's multiple)")
    parser.add_argument("--channels", type=int, default=3, help="image channels (default 3)")
    parser.add_argument("--classes", type=int, default=1, help="classes (default 1)")
    parser.add_argument("--tiny", action="store_true",
                        help="build the tiny test instances instead of the defaults (fast)")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("names", nargs="*", help="only these models (names or aliases)")
    parser.set_defaults(run=run)


def model_rows(names=None, size=256, channels=3, num_classes=1, tiny=False):
    """(name, aliases, params, gflops, size, description) per model.

    Models are built with the config's defaults (what a config naming only the model gets),
    or with their tiny test settings.
    """
    import keras

    from dl_suite.config.schema import defaults

    from dl_suite.models import MODELS, TINY_KWARGS, build_model, describe, input_multiple
    from dl_suite.models.flops import count_gflops

    aliases = {}
    for alias, key in MODELS.aliases().items():
        aliases.setdefault(key, []).append(alias)
    rows = []
    for name in [MODELS.canonical(n) for n in (names or MODELS.names())]:
        kw = dict(TINY_KWARGS[name]) if tiny else {
            k: v for k, v in defaults()["model"].items()
            if k not in ("name", "num_classes", "image_height", "image_width", "image_channels")}
        kw.pop("input_shape", None)
        classes = kw.pop("num_classes", num_classes)
        m = input_multiple(name, **kw)
        side = -(-size // m) * m
        model = build_model(name, (side, side, channels), classes, **kw)
        rows.append((name, ", ".join(sorted(aliases.get(name, []))), model.count_params(),
                     count_gflops(model), side, describe(name)))
        keras.backend.clear_session()
    return rows


def run(args):
    rows = model_rows(args.names, args.size, args.channels, args.classes, args.tiny)
    if args.markdown:
        say("| model | aliases | params | GFLOPs | size | what it is |")
        say("|---|---|---:|---:|---:|---|")
        for name, al, params, gflops, side, text in rows:
            say(f"| `{name}` | {al} | {params:,} | {gflops:.2f} | {side} | {text} |")
    else:
        say(f"{'model':28s} {'params':>12s} {'GFLOPs':>9s} {'size':>5s}  description")
        for name, _, params, gflops, side, text in rows:
            say(f"{name:28s} {params:>12,d} {gflops:>9.2f} {side:>5d}  {text}")
    say(f"# GFLOPs: 2 x multiply-accumulates of conv/dense/attention layers, batch 1, "
        f"{args.channels} channel(s), {args.classes} class(es)")
    return 0
