"""Where instance F1 is lost: the causes of unmatched objects in the labels `infer` wrote.

    python3 additional_scripts/instance_errors.py projects/UNet/DeepCell/mini_test_output \
        dataset/DeepCell/test/masks --connectivity 1 --tiny 30

Reads each `<name>_labels.tif` of PRED_DIR and the true mask `<name>.*` of TRUE_DIR; true objects
are the mask's instance ids, else its connected components (`--connectivity`, as
`eval.connectivity`). Prints one row per image and the total: matched, tiny, missed, merged,
split, boundary (see `dl_suite.evaluation.errors`) and extra predictions, and the F1@0.5 they
give.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from dl_suite.evaluation import CAUSES, instance_errors, true_objects  # noqa: E402
from dl_suite.io import read_image, read_mask  # noqa: E402

COLUMNS = CAUSES + ("extra", "true", "pred")


def _f1(counts):
    matched = counts["matched"]
    return 2 * matched / max(1, counts["true"] + counts["pred"])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pred_dir", type=Path, help="infer's output folder (<name>_labels.tif)")
    parser.add_argument("true_dir", type=Path, help="folder of the true masks (<name>.*)")
    parser.add_argument("--connectivity", type=int, default=1, choices=(1, 2))
    parser.add_argument("--tiny", type=int, default=30, help="smaller true objects are 'tiny'")
    parser.add_argument("--mask-threshold", type=int, default=128, help="binarises JPEG masks")
    args = parser.parse_args(argv)
    labels = sorted(args.pred_dir.glob("*_labels.tif"))
    if not labels:
        raise SystemExit(f"No <name>_labels.tif in {args.pred_dir}: run infer with labels output.")
    total = dict.fromkeys(COLUMNS, 0)
    print("| image | " + " | ".join(COLUMNS) + " | F1@0.5 |")
    print("|---" * (len(COLUMNS) + 2) + "|")
    for path in labels:
        name = path.name[: -len("_labels.tif")]
        masks = sorted(p for p in args.true_dir.glob(f"{name}.*"))
        if not masks:
            raise SystemExit(f"No true mask {name}.* in {args.true_dir}.")
        true = true_objects(read_mask(masks[0], threshold=args.mask_threshold), args.connectivity)
        pred = read_image(path)
        if pred.shape != true.shape:
            raise SystemExit(f"{path.name} is {pred.shape[1]}x{pred.shape[0]} px but its true mask "
                             f"{masks[0].name} is {true.shape[1]}x{true.shape[0]}: not the same image?")
        counts = instance_errors(pred, true, tiny=args.tiny)
        total = {k: total[k] + counts[k] for k in COLUMNS}
        print(f"| {name} | " + " | ".join(str(counts[k]) for k in COLUMNS) + f" | {_f1(counts):.3f} |")
    print("| total | " + " | ".join(str(total[k]) for k in COLUMNS) + f" | {_f1(total):.3f} |")


if __name__ == "__main__":
    main()
