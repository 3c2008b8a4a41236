"""File input/output: the only package of dl-suite that reads or writes files."""

from dl_suite.io.images import (  # noqa: F401
    is_image_file,
    read_image,
    read_mask,
    save_figure,
    write_image,
    write_text,
)
