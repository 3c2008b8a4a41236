"""How much of the foreground error of infer's masks lies at the true outlines.

    python3 additional_scripts/boundary_errors.py projects/UNet/ISBI2012/mini_test_output \
        dataset/ISBI2012/test/masks

Reads each `<name>_mask.tif` of PRED_DIR (foreground = nonzero) and the true mask `<name>.*` of
TRUE_DIR (foreground = nonzero). Prints, per image and pooled: IoU, wrong pixels, the share of
them within 1 and 2 px of a true outline, the IoU outside those bands, and the truth's own IoU
against a copy with every outline moved by one pixel (more background: "thicker", less:
"thinner"): what a one-pixel disagreement costs on these masks
(`dl_suite.evaluation.boundary`). With `--ignore FOLDER`, the ignore mask `<name>.*` of that
folder (if any; nonzero = ignored) leaves its pixels out of every count, as `dl-suite evaluate`
does with `eval.ignore_datapath`. A missing or unreadable file ends with one message, exit 2.
"""

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from dl_suite.errors import DataError  # noqa: E402
from dl_suite.evaluation.boundary import boundary_counts, boundary_summary, pooled  # noqa: E402
from dl_suite.io import read_image, read_mask  # noqa: E402
from dl_suite.io.pairs import (  # noqa: E402
    files_by_name, output_pairs, read_ignore_mask, require_same_size,
)

COLUMNS = ("iou", "errors", "share_within_1", "share_within_2", "iou_outside_1", "iou_outside_2",
           "truth_iou_thicker", "truth_iou_thinner")


def _row(name, summary):
    cells = [str(summary[c]) if c == "errors" else f"{summary[c]:.3f}" for c in COLUMNS]
    return f"| {name} | " + " | ".join(cells) + " |"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pred_dir", type=Path, help="infer's output folder (<name>_mask.tif)")
    parser.add_argument("true_dir", type=Path, help="folder of the true masks (<name>.*)")
    parser.add_argument("--mask-threshold", type=int, default=128, help="binarises JPEG masks")
    parser.add_argument("--ignore", type=Path, default=None,
                        help="folder of ignore masks (<name>.*), as eval.ignore_datapath")
    args = parser.parse_args(argv)
    rows, counts = [], []
    try:
        triples = output_pairs(args.pred_dir, "_mask.tif", args.true_dir)
        ignores = {} if args.ignore is None else files_by_name(
            args.ignore, [name for name, _, _ in triples], "ignore mask")
        for name, path, true_path in triples:
            true = np.asarray(read_mask(true_path, threshold=args.mask_threshold)) > 0
            pred = np.squeeze(np.asarray(read_image(path))) > 0
            require_same_size(pred, path, true, true_path)
            ignore = None
            if name in ignores:
                ignore = read_ignore_mask(ignores[name], true, true_path)
            counts.append(boundary_counts(pred, true, ignore=ignore))
            rows.append(_row(name, boundary_summary(counts[-1])))
    except DataError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 2
    print("| image | " + " | ".join(COLUMNS) + " |")
    print("|---" * (len(COLUMNS) + 1) + "|")
    print("\n".join(rows + [_row("pooled", boundary_summary(pooled(counts)))]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
