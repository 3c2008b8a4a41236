"""Cell Tracking Challenge (CTC) data sets: frames, SEG / TRA masks and `man_track.txt`.

Layout (INTEROP.md section 4.1), for sequence `01`:
    01/t000.tif ...                 raw frames (t%03d, t%04d when T > 999)
    01_GT/SEG/man_seg000.tif ...    segmentation masks (may be sparse: annotated frames only)
    01_GT/TRA/man_track000.tif ...  tracking markers, every frame, uint16
    01_GT/TRA/man_track.txt         one `L B E P` line per track
`01_ST/SEG` (silver truth) is read when `01_GT/SEG` is absent. Results (`01_RES/mask000.tif`,
`res_track.txt`) are written by the tracking package; `format_tracks` is shared.

Frames are read with tifffile here; the contract image reader of `dl_suite.io` (T, Y, X, C)
should replace `_read_tiff` once it is merged.
"""

import re
from pathlib import Path

import numpy as np
import tifffile

from dl_suite.errors import DataError
from dl_suite.io.images import write_image, write_text

_TRACK_LINE = re.compile(r"^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$")


def digits(num_frames):
    """Zero-padding of CTC file numbers: 3, or 4 when there are more than 999 frames."""
    return 4 if num_frames > 999 else 3


def format_tracks(tracks):
    """`L B E P` lines (one ASCII space, `\\n` endings, no header) of an (N, 4) integer table."""
    rows = np.asarray(tracks, dtype=np.int64).reshape(-1, 4)
    return "".join(f"{l} {b} {e} {p}\n" for l, b, e, p in rows.tolist())


def read_tracks(path):
    """Reads a `man_track.txt` / `res_track.txt` into an (N, 4) int64 table `L B E P`.

    Raises:
        DataError: the file is missing or a line is not four non-negative integers.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"Track file not found: '{path}'. A CTC TRA folder holds man_track.txt.")
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        match = _TRACK_LINE.match(line)
        if not match:
            raise DataError(
                f"'{path}' line {number} reads {line!r}; expected four integers 'L B E P' "
                "(track id, first frame, last frame, parent id or 0)."
            )
        rows.append([int(v) for v in match.groups()])
    return np.array(rows, np.int64).reshape(-1, 4)


def _read_tiff(path):
    try:
        return np.asarray(tifffile.imread(path))
    except Exception as exc:  # any decoder failure means a corrupt or truncated file
        raise DataError(f"Cannot read '{path}': the file looks corrupt ({exc}).") from exc


def _numbered(folder, prefix):
    """{frame number: path} of `prefix<digits>.tif` files in `folder`."""
    pattern = re.compile(rf"^{re.escape(prefix)}(\d+)\.tiff?$")
    found = {}
    for path in sorted(Path(folder).iterdir()) if Path(folder).is_dir() else []:
        match = pattern.match(path.name)
        if match:
            found[int(match.group(1))] = path
    return found


def sequences(root):
    """Sorted names of the CTC sequences (`01`, `02`, ...) under a data-set folder."""
    root = Path(root)
    return sorted(p.name for p in root.iterdir() if p.is_dir() and re.fullmatch(r"\d\d", p.name))


def is_ctc_dataset(root):
    """True when `root` holds at least one `NN/tNNN.tif` sequence."""
    root = Path(root)
    return root.is_dir() and any(_numbered(root / s, "t") for s in sequences(root))


def read_ctc_sequence(root, sequence="01", *, with_tra=False):
    """Reads one CTC sequence.

    Args:
        root: the data-set folder (holding `01/`, `01_GT/` ...).
        sequence: the sequence name.
        with_tra: also read the TRA markers and `man_track.txt`.

    Returns:
        dict with `frames` (T, H, W[, C]) as stored, `seg` {frame: (H, W) mask} of the annotated
        frames (GT, else ST; empty when neither exists), `seg_source` ('GT', 'ST' or None), and
        with `with_tra`: `tra` (T, H, W) and `tracks` (N, 4).

    Raises:
        DataError: no frames, frames numbered with gaps, or masks of frames that do not exist.
    """
    root = Path(root)
    found = _numbered(root / sequence, "t")
    if not found:
        raise DataError(f"No frames 't000.tif' ... in '{root / sequence}'. Expected a Cell "
                        "Tracking Challenge folder (01/t000.tif, 01_GT/SEG/man_seg000.tif).")
    numbers = sorted(found)
    if numbers != list(range(len(numbers))):
        missing = sorted(set(range(numbers[-1] + 1)) - set(numbers))[:5]
        raise DataError(f"'{root / sequence}' misses frames {missing}; CTC frames are numbered "
                        "t000, t001, ... without gaps.")
    frames = np.stack([_read_tiff(found[t]) for t in numbers])
    seg, source = {}, None
    for kind in ("GT", "ST"):
        masks = _numbered(root / f"{sequence}_{kind}" / "SEG", "man_seg")
        if masks:
            seg, source = {t: _read_tiff(p) for t, p in masks.items()}, kind
            break
    extra = sorted(t for t in seg if t >= len(numbers))
    if extra:
        raise DataError(f"'{root / f'{sequence}_{source}' / 'SEG'}' has masks of frames {extra} "
                        f"but the sequence has {len(numbers)} frames (t000..).")
    out = {"frames": frames, "seg": seg, "seg_source": source}
    if with_tra:
        tra_dir = root / f"{sequence}_GT" / "TRA"
        tra = _numbered(tra_dir, "man_track")
        out["tra"] = np.stack([_read_tiff(tra[t]) for t in sorted(tra)]) if tra else None
        out["tracks"] = read_tracks(tra_dir / "man_track.txt")
    return out


def write_ctc_dataset(root, frames, *, seg=None, tra=None, tracks=None, sequence="01",
                      seg_frames=None):
    """Writes a CTC sequence (every file atomically): frames, SEG masks, TRA masks + tracks.

    Args:
        root: data-set folder (created if needed).
        frames: (T, H, W) raw frames (dtype kept).
        seg: (T, H, W) instance masks, written as uint16 `man_segNNN.tif`.
        tra: (T, H, W) track markers (uint16 `man_trackNNN.tif`, every frame).
        tracks: (N, 4) table `L B E P` for `man_track.txt` (needs `tra`).
        sequence: sequence name, e.g. "01".
        seg_frames: frames that get a SEG mask (default: all).

    Returns:
        The sequence folder.

    Raises:
        DataError: a label exceeds 65534 (the CTC masks are 16-bit).
    """
    root, frames = Path(root), np.asarray(frames)
    width = digits(len(frames))
    for t, frame in enumerate(frames):
        write_image(root / sequence / f"t{t:0{width}d}.tif", frame)
    for name, masks, folder, chosen in (
        ("man_seg", seg, "SEG", seg_frames), ("man_track", tra, "TRA", None),
    ):
        if masks is None:
            continue
        masks = np.asarray(masks)
        if masks.max(initial=0) >= 65535 or masks.min(initial=0) < 0:
            raise DataError(f"{folder} masks hold labels outside 0..65534; CTC masks are uint16.")
        for t in range(len(masks)) if chosen is None else sorted(chosen):
            write_image(root / f"{sequence}_GT" / folder / f"{name}{t:0{width}d}.tif",
                        masks[t].astype(np.uint16))
    if tracks is not None:
        write_text(root / f"{sequence}_GT" / "TRA" / "man_track.txt", format_tracks(tracks))
    return root / sequence
