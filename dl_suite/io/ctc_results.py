"""Cell Tracking Challenge result folders (INTEROP.md 4.1, 4.2) and CTC track files.

A result folder holds `mask000.tif` ... (uint16, every frame, `mask0000.tif` beyond 999 frames)
and `res_track.txt` (`L B E P` per line, one space, no header). It is written into a hidden
temporary folder beside the target and renamed at the end, so a folder under its final name is
always complete; an existing folder is never replaced.
"""

from pathlib import Path

import numpy as np
import tifffile

from dl_suite.errors import DataError
from dl_suite.io.files import atomic_folder


def mask_name(t, num_frames, prefix="mask"):
    """`mask007.tif` (3 digits; 4 digits when the video has more than 999 frames)."""
    return f"{prefix}{t:04d}.tif" if num_frames > 999 else f"{prefix}{t:03d}.tif"


def format_track_rows(rows):
    """`L B E P` lines from rows of four integers."""
    return "".join(f"{int(r[0])} {int(r[1])} {int(r[2])} {int(r[3])}\n" for r in rows)


def write_ctc_results(folder, masks, rows, *, track_file="res_track.txt", prefix="mask"):
    """Writes a CTC result folder atomically.

    Args:
        folder: target folder (e.g. `.../01_RES`); must not exist yet.
        masks: uint16-compatible label video (T, Y, X).
        rows: iterable of (L, B, E, P).
        track_file, prefix: names (`man_track.txt` / `man_track` give a ground-truth TRA folder;
            track_file=None and `man_seg` a SEG folder).

    Returns:
        Path of the folder.

    Raises:
        DataError: the folder exists, or labels beyond 65534 (not valid in CTC).
    """
    folder = Path(folder)
    if folder.exists():
        raise DataError(f"'{folder}' exists already; dl-suite never overwrites results. Choose "
                        "another output folder or move the old one away.")
    masks = np.asarray(masks)
    if masks.max(initial=0) >= 65535:
        raise DataError(f"{int(masks.max())} labels do not fit CTC's 16-bit masks (max 65534).")
    with atomic_folder(folder) as tmp:
        for t, frame in enumerate(masks):
            tifffile.imwrite(tmp / mask_name(t, len(masks), prefix), frame.astype(np.uint16),
                             photometric="minisblack")
        if track_file:
            (tmp / track_file).write_text(format_track_rows(rows), encoding="ascii", newline="\n")
    return folder


def read_track_file(path, num_frames=None):
    """Reads a CTC track file (`res_track.txt` / `man_track.txt`).

    Args:
        path: the file.
        num_frames: number of mask frames beside it; a track outside 0..num_frames-1 is an error.

    Returns:
        int array (N, 4) of L, B, E, P.

    Raises:
        DataError: missing file, a malformed line, or a track referencing a missing frame or
            unknown parent (names the line).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"Track file not found: '{path}'.")
    rows = []
    for number, line in enumerate(path.read_text(encoding="ascii", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 4 or not all(p.isdigit() for p in parts):
            raise DataError(f"'{path.name}' line {number}: {line!r}; expected four whole numbers "
                            "'L B E P' (label, first frame, last frame, parent label or 0).")
        rows.append([int(p) for p in parts])
    table = np.array(rows, dtype=np.int64).reshape(-1, 4)
    labels = set(table[:, 0].tolist())
    for number, (lab, begin, end, parent) in enumerate(table, 1):
        if begin > end:
            raise DataError(f"'{path.name}' track {lab}: first frame {begin} > last frame {end}.")
        if num_frames is not None and end >= num_frames:
            raise DataError(
                f"'{path.name}' track {lab} runs to frame {end}, but only frames 0..{num_frames - 1} "
                f"exist in '{path.parent}'. A mask file is missing, or the track file belongs to "
                "another sequence.")
        if parent and parent not in labels:
            raise DataError(f"'{path.name}' track {lab} has parent {parent}, which is not a track.")
    return table


def read_ctc_masks(folder, prefix=None):
    """Reads the mask frames of a CTC folder (`mask*.tif`, `man_track*.tif` or `man_seg*.tif`).

    Returns:
        dict frame number -> uint16 array (frame numbers parsed from the names).
    """
    folder = Path(folder)
    files = sorted(folder.glob(f"{prefix}*.tif" if prefix else "*.tif"))
    out = {}
    for path in files:
        digits = "".join(ch for ch in path.stem.split("_")[-1] if ch.isdigit())
        if digits:
            out[int(digits)] = np.asarray(tifffile.imread(path))
    return out
