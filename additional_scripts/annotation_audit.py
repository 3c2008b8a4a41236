"""Where the annotation and the image disagree, per image: check these by eye before training.

    python3 additional_scripts/annotation_audit.py dataset/DeepCell/train/images \
        dataset/DeepCell/train/masks --csv audit_train.csv

Pairs each image with its mask by name (as training does); true objects are the mask's
instance ids, else its connected components (`--connectivity`, as `eval.connectivity`).
Lists the signal objects (Gaussian smoothing + Otsu) the mask leaves bare ("unannotated") or
only partly covers ("partly annotated"), and the true objects at about background grey
("faint"); see `dl_suite.evaluation.annotation_audit`. For objects brighter than the
background (fluorescence); `--invert` for darker ones.
"""

import argparse
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from dl_suite.errors import DataError  # noqa: E402
from dl_suite.evaluation import AUDIT_KINDS, audit_annotation, true_objects  # noqa: E402
from dl_suite.io import read_image, read_mask, write_text  # noqa: E402
from dl_suite.io.pairs import find_pairs  # noqa: E402

COLUMNS = ("image", "kind", "area", "y", "x", "border", "annotated", "contrast")


def audit_folder(image_dir, mask_dir, *, mask_threshold=128, connectivity=1, **options):
    """(rows, per-image stats) of every image/mask pair of two folders."""
    rows, stats = [], {}
    for image_path, mask_path in find_pairs(image_dir, mask_dir):
        image = read_image(image_path)
        image = image[..., :3].mean(axis=-1) if image.ndim == 3 and image.shape[-1] in (3, 4) else image
        true = true_objects(read_mask(mask_path, threshold=mask_threshold), connectivity)
        if image.shape[:2] != true.shape:
            raise DataError(f"{image_path.name} is {image.shape[1]}x{image.shape[0]} px but its mask "
                            f"{mask_path.name} is {true.shape[1]}x{true.shape[0]}: not the same image?")
        findings, stats[image_path.name] = audit_annotation(image, true, connectivity=connectivity,
                                                            **options)
        rows += [dict(image=image_path.name, **f) for f in findings]
    return rows, stats


def _cell(value):
    return "" if value is None else str(value)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("image_dir", type=Path)
    parser.add_argument("mask_dir", type=Path)
    parser.add_argument("--csv", type=Path, help="also write the findings to this CSV file")
    parser.add_argument("--connectivity", type=int, default=1, choices=(1, 2))
    parser.add_argument("--mask-threshold", type=int, default=128, help="binarises JPEG masks")
    parser.add_argument("--sigma", type=float, default=2.0, help="Gaussian smoothing (px)")
    parser.add_argument("--invert", action="store_true", help="objects darker than the background")
    parser.add_argument("--min-size", type=int, default=30, help="smaller signal objects are ignored")
    parser.add_argument("--partial", type=float, default=0.5,
                        help="annotated share below which a signal object is 'partly annotated'")
    parser.add_argument("--faint", type=float, default=0.1,
                        help="contrast below which a true object is 'faint' (0 background, 1 foreground)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    try:
        rows, stats = audit_folder(args.image_dir, args.mask_dir, mask_threshold=args.mask_threshold,
                                   connectivity=args.connectivity, sigma=args.sigma,
                                   invert=args.invert, min_size=args.min_size,
                                   partial=args.partial, faint=args.faint)
    except DataError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 2
    print("| image | true objects | signal objects | " + " | ".join(AUDIT_KINDS) + " |")
    print("|---" * (3 + len(AUDIT_KINDS)) + "|")
    for name, stat in stats.items():
        counts = [sum(r["image"] == name and r["kind"] == k for r in rows) for k in AUDIT_KINDS]
        print(f"| {name} | {stat['true_objects']} | {stat['signal_objects']} | "
              + " | ".join(map(str, counts)) + " |")
    totals = [sum(r["kind"] == k for r in rows) for k in AUDIT_KINDS]
    print(f"| total | {sum(s['true_objects'] for s in stats.values())} | "
          f"{sum(s['signal_objects'] for s in stats.values())} | " + " | ".join(map(str, totals)) + " |")
    print()
    for row in rows:
        print("  ".join(f"{c} {_cell(row[c])}" for c in COLUMNS if row[c] is not None))
    if args.csv:
        write_text(args.csv, ",".join(COLUMNS) + "\n" + "".join(
            ",".join(_cell(row[c]) for c in COLUMNS) + "\n" for row in rows))
        print(f"\nFindings written to {args.csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
