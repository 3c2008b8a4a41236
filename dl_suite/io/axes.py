"""Axis rules: which dimension of a stored array is time, space or colour (pure numpy).

Every image leaves `dl_suite.io` as (T, Y, X, C). The axes come from the file's own metadata
where it has any (ImageJ hyperstack, OME-TIFF, tifffile's axes), from `[dataset] axes` when
the user sets it, and otherwise from these rules on the array's shape:

- (Y, X): one grey frame;
- (Y, X, 3) or (Y, X, 4): one RGB(A) frame, 3 or 4 channels;
- (N, Y, X): N frames (pages of a stack, or time points);
- (N, Y, X, 3|4): N RGB(A) frames; any other 4-D shape is ambiguous and needs `[dataset] axes`.

Z is treated like T (a 2-D model sees each slice as a frame); T and Z together become T*Z
frames (T outer); C and S (TIFF samples) together become C*S channels.
"""

import numpy as np

from dl_suite.errors import DataError

AXES_LETTERS = "TZYXCS"
FRAME_LETTERS = "TZ"
CHANNEL_LETTERS = "CS"
OVERRIDE_HINT = (
    "To fix, set `axes` in the [dataset] section of the config to one letter per dimension "
    "of the stored array (T time, Z depth, Y, X, C channel, S colour sample), e.g. \"TYX\" for "
    "a stack of grey frames or \"YXC\" for one colour image."
)


def validate_axes(axes, source="[dataset] axes"):
    """Checks a user-given axes string and returns it upper-cased.

    Raises:
        DataError: letters outside T, Z, Y, X, C, S, a repeated letter, or no Y or X.
    """
    text = str(axes).strip().upper()
    bad = sorted(set(text) - set(AXES_LETTERS))
    if bad or not text or len(set(text)) != len(text) or "Y" not in text or "X" not in text:
        raise DataError(
            f"Received {source} = {axes!r}; expected each letter once from "
            f"{', '.join(AXES_LETTERS)} including Y and X (e.g. \"YX\", \"TYX\", \"YXC\", \"TZCYX\")."
        )
    return text


def default_axes(shape, source="image"):
    """Axes of an array whose file carries no axis metadata (the rules in this module's doc).

    Raises:
        DataError: a shape the rules cannot name (4-D without a colour axis, 5-D and more).
    """
    shape = tuple(shape)
    if len(shape) == 2:
        return "YX"
    if len(shape) == 3:
        return "YXC" if shape[-1] in (3, 4) else "TYX"
    if len(shape) == 4 and shape[-1] in (1, 3, 4):
        return "TYXC"
    raise DataError(
        f"'{source}' has shape {shape} and its file does not say which dimension is time, depth "
        f"or channel. {OVERRIDE_HINT}"
    )


def resolve_axes(shape, file_axes=None, override=None, source="image", strict=True):
    """Axes for an array: the user's override, else trusted file axes, else the shape rules.

    Args:
        shape: the stored array's shape.
        file_axes: axes the file declares (tifffile's series axes), or None. Letters outside
            T, Z, Y, X, C, S (tifffile's 'Q', 'I': a plain sequence of pages) mean "unknown":
            before colour pages ('...YXS') they become frames, otherwise the shape rules
            decide; so do planar samples ('SYX', tifffile's guess for (3, Y, X) arrays).
        override: `[dataset] axes` or None.
        source: name for messages.
        strict: an override with the wrong number of letters is an error; if False it is
            ignored (masks: "TCYX" images may have "TYX" masks).

    Returns:
        Axes string, one letter per dimension (letters T, Z, Y, X, C, S; T may repeat).

    Raises:
        DataError: the override or the file's axes do not match the array.
    """
    shape = tuple(shape)
    if override and (strict or len(validate_axes(override)) == len(shape)):
        axes = validate_axes(override)
        if len(axes) != len(shape):
            raise DataError(
                f"'{source}' has shape {shape} ({len(shape)} dimensions) but [dataset] axes = "
                f"'{axes}' names {len(axes)}. Give one letter per dimension, e.g. "
                f"'{_example(shape)}'."
            )
        return axes
    if file_axes and len(file_axes) == len(shape):
        file_axes = file_axes.upper()
        # Planar samples (S before Y, X) are what tifffile writes, unasked, for any (3|4, Y, X)
        # array: such pages follow the rules (frames), like the "3-D pages = frames".
        planar = "S" in file_axes and not file_axes.endswith("S")
        known = set(file_axes) <= set(AXES_LETTERS) and len(set(file_axes)) == len(file_axes)
        if known and not planar:
            return file_axes
        if file_axes.endswith("YXS"):
            return "".join(a if a in AXES_LETTERS else "T" for a in file_axes)
    return default_axes(shape, source)


def _example(shape):
    try:
        return default_axes(shape)
    except DataError:
        return "TYX" if len(shape) == 3 else "TCYX"


def to_tyxc(array, axes):
    """Views `array` (one dimension per letter of `axes`) as (T, Y, X, C).

    Frame letters (T, Z) are merged in their stored order, channel letters (C, S) likewise.
    For memory-mapped input the result stays a view unless merging needs a copy (C and S
    together, or frame axes that are not adjacent in memory).

    Raises:
        DataError: `axes` does not have one letter per dimension or lacks Y or X.
    """
    if len(axes) != array.ndim or axes.count("Y") != 1 or axes.count("X") != 1:
        raise DataError(
            f"Axes '{axes}' do not fit an array of shape {tuple(array.shape)}. {OVERRIDE_HINT}"
        )
    frames = [i for i, a in enumerate(axes) if a in FRAME_LETTERS]
    channels = [i for i, a in enumerate(axes) if a in CHANNEL_LETTERS]
    order = frames + [axes.index("Y"), axes.index("X")] + channels
    if len(order) != array.ndim:
        raise DataError(f"Axes '{axes}' hold letters other than {AXES_LETTERS}. {OVERRIDE_HINT}")
    view = np.transpose(array, order) if order != list(range(array.ndim)) else array
    shape = tuple(array.shape)
    num_frames = int(np.prod([shape[i] for i in frames], dtype=np.int64)) if frames else 1
    num_channels = int(np.prod([shape[i] for i in channels], dtype=np.int64)) if channels else 1
    target = (num_frames, shape[axes.index("Y")], shape[axes.index("X")], num_channels)
    if view.shape == target:
        return view
    return view.reshape(target)


def frame_letter(axes):
    """'Z' for a z-stack without time, else 'T' (the letter the outputs use for frames)."""
    return "Z" if "Z" in axes and "T" not in axes else "T"
