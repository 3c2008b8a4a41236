"""`dl-suite augment-preview CONFIG [--set ...] [--num N] [--output PNG]`."""

from dl_suite.cli.common import add_config_arguments, load, say


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "augment-preview",
        help="write a PNG grid of augmented training image/mask pairs (what training will see)",
    )
    add_config_arguments(parser)
    parser.add_argument("--num", type=int, default=8, help="number of pairs shown (default 8)")
    parser.add_argument(
        "--output", default=None,
        help="PNG to write (default: augment_preview.png next to the config file)",
    )
    parser.add_argument("--seed", type=int, default=None, help="seed (default: generator.seed)")
    parser.set_defaults(run=run)


def run(args):
    from pathlib import Path

    from dl_suite.data.augment import build_augmentor
    from dl_suite.data.dataset import SegmentationDataset
    from dl_suite.data.preview import preview_figure
    from dl_suite.errors import UserError
    from dl_suite.io import save_figure
    from dl_suite.workflows.data import load_samples, split_pairs

    if args.num < 1:
        raise UserError(f"Received --num {args.num}; give a number of pairs >= 1.")
    cfg = load(args)
    pairs = split_pairs(cfg, "train")
    if not pairs:
        raise UserError(
            "The config names no training data. Set [train] image_datapath and mask_datapath."
        )
    _, images, masks = load_samples(pairs[: args.num], cfg)
    gen = cfg["generator"]
    seed = gen["seed"] if args.seed is None else args.seed
    augmentor = build_augmentor(cfg, seed=seed)
    patch = gen["patch_size"] or (cfg["model"]["image_height"], cfg["model"]["image_width"])
    dataset = SegmentationDataset(
        images, masks, batch_size=1, patch_size=patch, augmentor=augmentor, seed=seed,
        steps_per_epoch=args.num, target_type=gen["target_type"],
        num_classes=cfg["model"]["num_classes"], sampling_pdf=gen["sampling_pdf"],
    )
    state = "augmentation off ([generator] augmentation = False)" if augmentor is None else \
        ", ".join(t.name for t in augmentor.transforms) or "no operation enabled"
    figure = preview_figure(dataset, num=args.num, title=f"{Path(args.config).name}: {state}")
    output = Path(args.output) if args.output else Path(args.config).with_name("augment_preview.png")
    save_figure(figure, output)
    say(f"Wrote {args.num} augmented pairs to {output}")
    return 0
