"""`dl-suite init FOLDER --model NAME --images DIR --masks DIR`: a new project folder."""

import difflib
from pathlib import Path

from dl_suite.cli.common import say
from dl_suite.errors import UserError


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "init", help="start a project folder: commented config, 1.train/2.evaluate/3.infer scripts, README")
    parser.add_argument("folder", help="new project folder, e.g. projects/UNet/MyData (must not exist)")
    parser.add_argument("--model", required=True, help="model name (see `dl-suite models`)")
    parser.add_argument("--images", required=True, help="folder of training images")
    parser.add_argument("--masks", required=True, help="folder of training masks (same file names)")
    parser.add_argument("--test-images", default=None, help="folder of held-out images for evaluate/infer")
    parser.add_argument("--test-masks", default=None, help="folder of held-out masks for evaluate")
    parser.add_argument("--dialect", choices=("ini", "json"), default="ini",
                        help="config file type: commented INI (default) or canonical JSON with $schema")
    parser.set_defaults(run=run)


def _check_folder(option, path):
    if path is not None and not Path(path).is_dir():
        raise UserError(f"{option} '{path}' is not a folder. Give the folder that holds the files.")


def run(args):
    from dl_suite.config.template import canonical_model, model_names
    from dl_suite.workflows.init_project import init_project

    model = canonical_model(args.model)
    if model is None:
        close = difflib.get_close_matches(args.model, model_names(), n=1, cutoff=0.5)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise UserError(f"--model '{args.model}' is not a model.{hint} "
                        f"Available: {', '.join(sorted(model_names()))}.")
    for option, path in (("--images", args.images), ("--masks", args.masks),
                         ("--test-images", args.test_images), ("--test-masks", args.test_masks)):
        _check_folder(option, path)
    if (args.test_images is None) != (args.test_masks is None):
        raise UserError("Give both --test-images and --test-masks, or neither.")
    folder, files, found = init_project(
        args.folder, model, args.images, args.masks, dialect=args.dialect,
        test_images=args.test_images, test_masks=args.test_masks)
    config = next(name for name in files if name.startswith("train_eval_infer"))
    say(f"Created {folder}/ with {', '.join(files)}")
    say(f"Data: {found['num_pairs']} training image/mask pairs, {found['image_channels']} channel(s), "
        f"patches of {found['patch_size']} px" + (f", {found['num_test_pairs']} test pairs." if
                                                  "num_test_pairs" in found else "."))
    say(f"Next: check it with `dl-suite validate {folder / config}`, then run "
        f"{folder / '1.train.sh'} (1.train.bat on Windows).")
    return 0
