"""Annotation audit of the image/mask pairs a config (or two folders) names:
`dl_suite.evaluation.audit_annotation` on every image, frame by frame."""

import numpy as np

from dl_suite.errors import DataError
from dl_suite.evaluation import AUDIT_KINDS, audit_annotation, true_objects
from dl_suite.io import read_image_data, read_mask_data

COLUMNS = ("split", "image", "kind", "area", "y", "x", "border", "annotated", "contrast")
SPLITS = ("train", "val", "eval", "test")


def audit_pairs(pairs, split="", *, mask_threshold=128, axes=None, connectivity=1, **options):
    """(rows, stats) for (image, mask) path pairs: one row per finding (`COLUMNS`), and
    {image name: stats of `audit_annotation`}. Multi-channel images are audited on their
    channel mean; stacks and videos frame by frame (`<name>#<t>`)."""
    rows, stats = [], {}
    for image_path, mask_path in pairs:
        image = read_image_data(image_path, axes=axes)
        mask = read_mask_data(mask_path, threshold=mask_threshold, axes=axes)
        if image.array.shape[:3] != mask.shape[:3]:
            raise DataError(f"'{image_path.name}' is {image.array.shape[2]}x{image.array.shape[1]} px "
                            f"with {image.num_frames} frame(s) but its mask '{mask_path.name}' is "
                            f"{mask.shape[2]}x{mask.shape[1]} px with {mask.shape[0]}: not the same image?")
        for t in range(image.num_frames):
            name = image_path.name + (f"#{t}" if image.num_frames > 1 else "")
            grey = np.asarray(image.array[t], np.float32).mean(axis=-1)
            findings, stats[name] = audit_annotation(
                grey, true_objects(mask[t], connectivity), connectivity=connectivity, **options)
            rows += [dict(split=split, image=name, **f) for f in findings]
    return rows, stats


def audit_config(cfg, splits=SPLITS, **options):
    """{split: (rows, stats)} for each of `splits` the config names data for (train, val =
    the training's validation folders, eval, test)."""
    from dl_suite.workflows.data import split_pairs

    dataset = cfg["dataset"]
    out = {}
    for split in splits:
        pairs = split_pairs(cfg, split)
        if pairs:
            out[split] = audit_pairs(pairs, split, mask_threshold=dataset["mask_threshold"],
                                     axes=dataset.get("axes"),
                                     connectivity=cfg["eval"]["connectivity"], **options)
    return out


def summary_table(results):
    """Markdown lines: per image, true and signal objects and the count of each kind."""
    lines = ["| split | image | true objects | signal objects | " + " | ".join(AUDIT_KINDS) + " |",
             "|---" * (4 + len(AUDIT_KINDS)) + "|"]
    totals = [0] * (2 + len(AUDIT_KINDS))
    for split, (rows, stats) in results.items():
        for name, stat in stats.items():
            counts = [stat["true_objects"], stat["signal_objects"]] + [
                sum(r["image"] == name and r["kind"] == k for r in rows) for k in AUDIT_KINDS]
            totals = [a + b for a, b in zip(totals, counts)]
            lines.append(f"| {split} | {name} | " + " | ".join(map(str, counts)) + " |")
    lines.append("| total | | " + " | ".join(map(str, totals)) + " |")
    return lines


def findings_table(results):
    """The findings of every split as a pandas DataFrame (`COLUMNS`), for
    `dl_suite.io.tables.write_csv`."""
    import pandas as pd

    return pd.DataFrame([r for rows, _ in results.values() for r in rows], columns=list(COLUMNS))


def finding_lines(results, columns=COLUMNS):
    """One readable line per finding: `column value` pairs (empty values left out)."""
    return ["  ".join(f"{c} {r[c]}" for c in columns if r[c] is not None)
            for rows, _ in results.values() for r in rows]
