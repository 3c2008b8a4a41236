"""A new folder of text files, written all at once (`dl-suite init`)."""

from pathlib import Path

from dl_suite.errors import UserError
from dl_suite.io.files import atomic_folder


def check_new_folder(folder):
    """Raises UserError when `folder` (or a file of that name) exists already."""
    folder = Path(folder)
    if folder.exists() or folder.is_symlink():
        raise UserError(
            f"'{folder}' exists already; dl-suite init never overwrites a folder. "
            "Choose a new folder name, or move the existing one away first."
        )


def write_new_folder(folder, files, executable=()):
    """Writes `files` into a folder that must not exist yet; nothing is written on failure.

    Args:
        folder: the folder to create (its parents are created).
        files: {relative file name: text}.
        executable: names in `files` to mark executable (u+x, and g/o+x where readable).

    Returns:
        Path of the folder.

    Raises:
        UserError: the folder (or a file of that name) exists already; it is left untouched.
    """
    folder = Path(folder)
    check_new_folder(folder)
    with atomic_folder(folder) as tmp:
        for name, text in files.items():
            path = tmp / name
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
        for name in executable:
            path = tmp / name
            mode = path.stat().st_mode
            path.chmod(mode | ((mode & 0o444) >> 2))  # x wherever r is set
    return folder
