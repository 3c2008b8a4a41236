"""Where the annotation and the image disagree, for two folders of image/mask pairs (no config):

    python3 additional_scripts/annotation_audit.py dataset/DeepCell/train/images \
        dataset/DeepCell/train/masks --csv audit_train.csv

With a config, `dl-suite audit CONFIG` does the same for the folders it names. See
`dl_suite.evaluation.annotation_audit` for the three kinds of finding; for objects brighter
than the background (fluorescence), `--invert` for darker ones.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from dl_suite.errors import DataError  # noqa: E402
from dl_suite.io.pairs import find_pairs  # noqa: E402
from dl_suite.io.tables import write_csv  # noqa: E402
from dl_suite.workflows.audit import (  # noqa: E402
    COLUMNS, audit_pairs, finding_lines, findings_table, summary_table,
)


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
    try:
        results = {"": audit_pairs(find_pairs(args.image_dir, args.mask_dir), "",
                                   mask_threshold=args.mask_threshold, connectivity=args.connectivity,
                                   sigma=args.sigma, invert=args.invert, min_size=args.min_size,
                                   partial=args.partial, faint=args.faint)}
    except DataError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 2
    print("\n".join(summary_table(results) + [""] + finding_lines(results, COLUMNS[1:])))
    if args.csv:
        try:
            print(f"\nFindings written to {write_csv(args.csv, findings_table(results))}")
        except OSError as error:
            print(f"Error: cannot write the findings to '{args.csv}' ({error.strerror}).",
                  file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
