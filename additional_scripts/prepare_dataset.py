"""Split a folder of image/mask pairs into train/valid/test folders for a dl-suite project.

Example (from the repository root):
    python3 additional_scripts/prepare_dataset.py --images ../shared/data/isbi2012/image \
        --masks ../shared/data/isbi2012/label --output dataset/ISBI2012 --valid 3 --test 4

Files are copied (never moved); an existing output folder is refused unless --overwrite.
"""

import argparse
import shutil
import sys
from pathlib import Path

import numpy as np

from dl_suite.errors import UserError
from dl_suite.io.pairs import find_pairs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", required=True)
    parser.add_argument("--masks", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--valid", type=int, default=2, help="number of validation pairs")
    parser.add_argument("--test", type=int, default=3, help="number of test pairs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args(argv)
    try:
        pairs = find_pairs(args.images, args.masks)
    except UserError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    out = Path(args.output)
    if out.exists() and any(out.iterdir()) and not args.overwrite:
        sys.stderr.write(f"error: '{out}' is not empty; pass --overwrite to add files to it.\n")
        return 2
    if args.valid + args.test >= len(pairs):
        sys.stderr.write(f"error: only {len(pairs)} pairs; --valid + --test must leave some for training.\n")
        return 2
    order = np.random.default_rng(args.seed).permutation(len(pairs))
    splits = {"test": order[: args.test], "valid": order[args.test : args.test + args.valid],
              "train": order[args.test + args.valid :]}
    for split, indices in splits.items():
        for i in sorted(indices):
            image, mask = pairs[i]
            for src, kind in ((image, "images"), (mask, "masks")):
                dst = out / split / kind / src.name
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dst)
        print(f"{split}: {len(indices)} pairs -> {out / split}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
