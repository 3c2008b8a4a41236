"""The JSON dialect's frame-to-video CSV (`videos2im_relation.csv`).

Videos themselves are read by the one image contract (`dl_suite.io.read_image_data`).
"""

import csv
from pathlib import Path

from dl_suite.errors import DataError


def read_videos_csv(path):
    """Reads the legacy `videos2im_relation.csv` (`Video; Frame` header, `;` separated).

    Returns:
        list of (video name, frame file name) in file order.

    Raises:
        DataError: the file is missing or a row does not have two fields.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"Frame-to-video CSV not found: '{path}'. Check PATH2VIDEOS / videos_csv.")
    text = path.read_text(encoding="utf-8-sig")
    delimiter = ";" if ";" in text.splitlines()[0] else ","
    rows = []
    for number, row in enumerate(csv.reader(text.splitlines(), delimiter=delimiter), 1):
        fields = [f.strip() for f in row]
        if not any(fields) or (number == 1 and fields[:2] and fields[0].lower() == "video"):
            continue
        if len(fields) < 2 or not fields[0] or not fields[1]:
            raise DataError(f"'{path}' row {number} reads {row!r}; expected 'video;frame file' "
                            "(e.g. 'cell_video_01;raw_001.tif').")
        rows.append((fields[0], Path(fields[1]).name))
    return rows
