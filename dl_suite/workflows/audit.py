"""Annotation audit of the image/mask pairs a config (or two folders) names:
`dl_suite.evaluation.audit_annotation` on every image, frame by frame."""

from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

from dl_suite.errors import DataError
from dl_suite.evaluation import AUDIT_KINDS, audit_annotation, true_objects
from dl_suite.io import read_image_data, read_mask_data, write_image
from dl_suite.io.pairs import folder_has_files

COLUMNS = ("split", "image", "kind", "area", "y", "x", "border", "annotated", "contrast")
SPLITS = ("train", "val", "eval", "test")
# The key that reads each split's ignore masks, and what it does with them.
IGNORE_KEYS = {"train": ("train.ignore_datapath", "train with"),
               "val": ("train.val_ignore_datapath", "train and tune with"),
               "eval": ("eval.ignore_datapath", "score with"),
               "test": ("test.ignore_datapath", "score with")}


def audit_pairs(pairs, split="", *, mask_threshold=128, axes=None, connectivity=1,
                ignore_dir=None, margin=2, written=None, **options):
    """(rows, stats) for (image, mask) path pairs: one row per finding (`COLUMNS`), and
    {image name: stats of `audit_annotation`}. Multi-channel images are audited on their
    channel mean; stacks and videos frame by frame (`<name>#<t>`).

    With `ignore_dir`, each mask with findings gets an ignore mask there (`<mask stem>.tif`,
    uint8 0/255, one frame per frame): the findings' pixels grown by `margin` px, for
    the key of its split (`IGNORE_KEYS`); the paths are appended to `written`.
    """
    rows, stats = [], {}
    for image_path, mask_path in pairs:
        image = read_image_data(image_path, axes=axes)
        mask = read_mask_data(mask_path, threshold=mask_threshold, axes=axes)
        if image.array.shape[:3] != mask.shape[:3]:
            raise DataError(f"'{image_path.name}' is {image.array.shape[2]}x{image.array.shape[1]} px "
                            f"with {image.num_frames} frame(s) but its mask '{mask_path.name}' is "
                            f"{mask.shape[2]}x{mask.shape[1]} px with {mask.shape[0]}: not the same image?")
        names = [image_path.name + (f"#{t}" if image.num_frames > 1 else "")
                 for t in range(image.num_frames)]
        for t, name in enumerate(names):
            grey = np.asarray(image.array[t], np.float32).mean(axis=-1)
            findings, stats[name] = audit_annotation(
                grey, true_objects(mask[t], connectivity), connectivity=connectivity, **options)
            rows += [dict(split=split, image=name, **f) for f in findings]
        regions = np.stack([stats[n].pop("regions") for n in names])
        if ignore_dir is not None and regions.any():
            path = _write_ignore_mask(Path(ignore_dir) / f"{mask_path.stem}.tif", regions, margin)
            if written is not None:
                written.append(path)
    return rows, stats


def _write_ignore_mask(path, regions, margin):
    """Writes the (T, H, W) finding regions, grown by `margin` px, as a 0/255 uint8 mask."""
    if margin > 0:
        grow = ndi.generate_binary_structure(2, 1)
        regions = np.stack([ndi.binary_dilation(r, grow, iterations=int(margin)) for r in regions])
    out = regions.astype(np.uint8) * 255
    if len(out) == 1:
        return write_image(path, out[0])
    return write_image(path, out, imagej=True, metadata={"axes": "TYX"})


def check_ignore_folder(folder):
    """Refuses a folder that already holds files: ignore masks there may have been edited by
    hand, and the audit never overwrites a user's files."""
    if folder_has_files(folder):
        raise DataError(f"'{folder}' already holds files (ignore masks edited by hand would be "
                        "lost). Give --write-ignore a new or empty folder.")


def audit_config(cfg, splits=SPLITS, *, ignore_dir=None, written=None, **options):
    """{split: (rows, stats)} for each of `splits` the config names data for (train, val =
    the training's validation folders, eval, test).

    With `ignore_dir`, each split's ignore masks are written to `ignore_dir/<split>` (see
    `audit_pairs`; `IGNORE_KEYS` names the key that reads them); `written` collects
    {split: [paths]}.
    """
    from dl_suite.workflows.data import split_pairs

    dataset = cfg["dataset"]
    out = {}
    if ignore_dir is not None:
        for split in splits:
            check_ignore_folder(Path(ignore_dir) / split)
    for split in splits:
        pairs = split_pairs(cfg, split)
        if pairs:
            folder = Path(ignore_dir) / split if ignore_dir is not None and split in IGNORE_KEYS else None
            paths = written.setdefault(split, []) if folder is not None and written is not None else None
            out[split] = audit_pairs(pairs, split, mask_threshold=dataset["mask_threshold"],
                                     axes=dataset.get("axes"),
                                     connectivity=cfg["eval"]["connectivity"],
                                     ignore_dir=folder, written=paths, **options)
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


def ignore_lines(written, folder):
    """What `--write-ignore` wrote and the config keys that use it."""
    lines = [""]
    for split, (key, use) in IGNORE_KEYS.items():
        if split not in written:
            continue
        target = (Path(folder) / split).resolve()
        section, name = key.split(".")
        if written[split]:
            lines.append(f"{len(written[split])} ignore mask(s) written to {target}: {use} "
                         f'[{section}] {name} = "{target.as_posix()}" (look at them first; edit '
                         "or delete any you disagree with)")
        else:
            lines.append(f"No findings in the {split} split: no ignore masks written for it.")
    if any(split in written for split in ("eval", "test")):
        lines.append("Scores with ignore masks leave out what the audit flagged: report them "
                     "beside the scores on every pixel (summary.json `all_pixels`).")
    if len(lines) == 1:
        lines.append("No ignore masks written: the config names no data for the audited splits.")
    return lines
