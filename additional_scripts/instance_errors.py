"""Where instance F1 is lost: the causes of unmatched objects in the labels `infer` wrote.

    python3 additional_scripts/instance_errors.py projects/UNet/DeepCell/mini_test_output \
        dataset/DeepCell/test/masks --connectivity 1 --tiny 30 [--ignore IGNORE_DIR]

Reads each `<name>_labels.tif` of PRED_DIR and the true mask `<name>.*` of TRUE_DIR; true objects
are the mask's instance ids, else its connected components (`--connectivity`, as
`eval.connectivity`). Prints one row per image and the total: matched, tiny, missed, merged,
split, boundary (see `dl_suite.evaluation.errors`) and extra predictions, and the F1@0.5 they
give. With `--ignore`, the ignore mask `<name>.*` of that folder (if any) leaves objects out as
`dl-suite evaluate` does with `eval.ignore_datapath` (`dl_suite.evaluation.ignore`); the column
`ignored` counts the true objects left out. A missing or unreadable file ends with one message
(exit 2).
"""

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from dl_suite.errors import DataError  # noqa: E402
from dl_suite.evaluation import CAUSES, instance_errors, true_objects  # noqa: E402
from dl_suite.evaluation.ignore import drop_ignored_objects  # noqa: E402
from dl_suite.io import read_image, read_mask  # noqa: E402
from dl_suite.io.pairs import (  # noqa: E402
    files_by_name, output_pairs, read_ignore_mask, require_same_size,
)

COLUMNS = CAUSES + ("extra", "true", "pred")


def _f1(counts):
    matched = counts["matched"]
    return 2 * matched / max(1, counts["true"] + counts["pred"])


def _image_counts(path, true_path, ignore_path, args):
    """The cause counts of one image (plus `ignored` with --ignore)."""
    true = true_objects(read_mask(true_path, threshold=args.mask_threshold), args.connectivity)
    pred = np.squeeze(np.asarray(read_image(path)))
    require_same_size(pred, path, true, true_path)
    ignored = 0
    if ignore_path is not None:
        ignore = read_ignore_mask(ignore_path, true, true_path)
        pred, true, _, ignored = drop_ignored_objects(pred, true, ignore)
    counts = instance_errors(pred, true, tiny=args.tiny)
    if args.ignore is not None:
        counts["ignored"] = ignored
    return counts


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pred_dir", type=Path, help="infer's output folder (<name>_labels.tif)")
    parser.add_argument("true_dir", type=Path, help="folder of the true masks (<name>.*)")
    parser.add_argument("--connectivity", type=int, default=1, choices=(1, 2))
    parser.add_argument("--tiny", type=int, default=30, help="smaller true objects are 'tiny'")
    parser.add_argument("--mask-threshold", type=int, default=128, help="binarises JPEG masks")
    parser.add_argument("--ignore", type=Path, default=None,
                        help="folder of ignore masks (<name>.*), as eval.ignore_datapath")
    args = parser.parse_args(argv)
    columns = COLUMNS + (("ignored",) if args.ignore is not None else ())
    rows, total = [], dict.fromkeys(columns, 0)
    try:
        triples = output_pairs(args.pred_dir, "_labels.tif", args.true_dir)
        ignores = {} if args.ignore is None else files_by_name(
            args.ignore, [name for name, _, _ in triples], "ignore mask")
        for name, path, true_path in triples:
            counts = _image_counts(path, true_path, ignores.get(name), args)
            total = {k: total[k] + counts[k] for k in columns}
            rows.append(f"| {name} | " + " | ".join(str(counts[k]) for k in columns)
                        + f" | {_f1(counts):.3f} |")
    except DataError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 2
    print("| image | " + " | ".join(columns) + " | F1@0.5 |")
    print("|---" * (len(columns) + 2) + "|")
    print("\n".join(rows))
    print("| total | " + " | ".join(str(total[k]) for k in columns) + f" | {_f1(total):.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
