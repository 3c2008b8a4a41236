"""File input/output: the only package of dl-suite that reads or writes files."""

from dl_suite.io.images import (  # noqa: F401
    is_image_file,
    read_image,
    read_mask,
    save_figure,
    write_image,
    write_text,
)
from dl_suite.io.files import (  # noqa: F401
    is_weights_file,
    keep_copy,
    load_keras_model,
    load_model_weights,
    read_json,
    remove_file,
    save_keras_model,
)
from dl_suite.io.imagej import Calibration, read_calibration, write_imagej_tiff  # noqa: F401
from dl_suite.io.large_tiff import create_output_tiff, open_image_lazy  # noqa: F401
from dl_suite.io.axes import default_axes, resolve_axes, to_tyxc, validate_axes  # noqa: F401
from dl_suite.io.image_data import (  # noqa: F401
    ImageData,
    open_image_data,
    read_image_data,
    read_mask_data,
)
