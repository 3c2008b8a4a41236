"""corrupt_dataset(...): corrupted copies of a folder of images, with their parameters.

Layout of the output folder: `<family>/s<severity>/<image name>` for every family and
severity, plus `corruptions.json` and `corruptions.csv` (one row per written image).
"""

import csv
import io
import json
import logging
from pathlib import Path

import numpy as np

from dl_suite.errors import UserError
from dl_suite.io import read_image_data, read_mask_data, write_image, write_text
from dl_suite.io.pairs import find_pairs, list_images

logger = logging.getLogger(__name__)


def corruption_seed(seed, image_index, family, severity):
    """A reproducible per-(image, family, severity) seed derived from the assay's seed."""
    from dl_suite.robustness import CORRUPTIONS

    family_index = CORRUPTIONS.names().index(family)
    return int(np.random.SeedSequence([seed, image_index, family_index, severity]).generate_state(1)[0])


def family_level(family, severity, snr_levels):
    """The level of a family at a severity: the config's SNR grid for noise families."""
    from dl_suite.robustness import CORRUPTIONS

    spec = CORRUPTIONS.get(family)
    if spec.uses_snr:
        if severity > len(snr_levels):
            raise UserError(f"Severity {severity} needs {severity} [robustness] snr_levels; got {list(snr_levels)}.")
        return float(snr_levels[severity - 1])
    return spec.levels[severity - 1]


def _dtype_range(dtype):
    return (np.iinfo(dtype).min, np.iinfo(dtype).max) if np.issubdtype(dtype, np.integer) else None


def _inputs(input_dir):
    """[(image, mask or None)]: `images/` + `masks/` pairs when present, else the folder's images."""
    input_dir = Path(input_dir)
    if (input_dir / "images").is_dir() and (input_dir / "masks").is_dir():
        return find_pairs(input_dir / "images", input_dir / "masks")
    images = list_images(input_dir)
    if not images:
        raise UserError(f"No images found in '{input_dir}'. Give a folder of images, or one with images/ and masks/.")
    return [(path, None) for path in images]


def corrupt_dataset(input_dir, output_dir, section, axes=None, threshold=128):
    """Writes every image of `input_dir` corrupted by each family x severity of `section`.

    Args:
        input_dir: folder of images, or with `images/` and `masks/` (masks define the SNR's
            foreground; without them Otsu's threshold does).
        output_dir: a new folder, or one without an earlier `corruptions.json`.
        section: the `[robustness]` config section (families, severities, snr_levels, seed,
            input_snr, output_dtype).
        axes, threshold: `[dataset] axes` and `mask_threshold` of the images and masks.

    Returns:
        list of parameter rows (dicts), also written to corruptions.json / .csv.

    Raises:
        UserError: no images, an output folder holding an earlier corruption, or an SNR an image
            cannot reach.
    """
    return _corrupt_pairs(_inputs(input_dir), output_dir, section, axes, threshold)


def _corrupt_pairs(pairs, output_dir, section, axes, threshold):
    from dl_suite.robustness import corrupt

    output_dir = Path(output_dir)
    if (output_dir / "corruptions.json").exists():
        raise UserError(f"'{output_dir}' already holds corrupted copies (corruptions.json); choose a new --output folder.")
    rows = []
    for index, (image_path, mask_path) in enumerate(pairs):
        data = read_image_data(image_path, axes=axes)
        raw = np.asarray(data.array)
        mask = read_mask_data(mask_path, threshold=threshold, axes=axes) if mask_path else None
        as_float = section["output_dtype"] == "float32"
        suffix = ".tif" if as_float or raw.shape[0] > 1 else image_path.suffix
        for family in section["families"]:
            for severity in section["severities"]:
                level = family_level(family, severity, section["snr_levels"])
                seed = corruption_seed(section["seed"], index, family, severity)
                try:
                    out, params = corrupt(raw, family, severity, level=level, mask=mask, seed=seed,
                                          input_snr=section["input_snr"], time_axis=True,
                                          clip=None if as_float else _dtype_range(raw.dtype))
                except UserError as exc:
                    raise UserError(f"'{image_path.name}', {family} severity {severity}: {exc}") from exc
                out = out if as_float else np.round(out).astype(raw.dtype) if _dtype_range(raw.dtype) else out.astype(raw.dtype)
                target = output_dir / family / f"s{severity}" / (image_path.stem + suffix)
                write_image(target, out[0] if out.shape[0] == 1 else out)
                rows.append({"image": image_path.name, "output": str(target.relative_to(output_dir)), **params})
        logger.info("Corrupted %s (%d families x %d severities)", image_path.name,
                    len(section["families"]), len(section["severities"]))
    write_text(output_dir / "corruptions.json", json.dumps(rows, indent=1, default=str))
    write_text(output_dir / "corruptions.csv", _csv(rows))
    return rows


def _csv(rows):
    keys = list(dict.fromkeys(key for row in rows for key in row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=keys, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: json.dumps(v) if isinstance(v, (list, dict)) else v for k, v in row.items()} for row in rows)
    return buffer.getvalue()


def corrupt_from_config(config_path=None, overrides=(), input_dir=None, output_dir=None):
    """`dl-suite corrupt`: the [robustness] section of a config (or the defaults) on a folder.

    Returns:
        (rows, output folder).

    Raises:
        UserError: neither a folder nor a config naming one, or no output folder.
    """
    from dl_suite.config import config_from_dict, load_config
    from dl_suite.workflows.data import split_pairs

    cfg = load_config(config_path, overrides) if config_path else config_from_dict({}, overrides)
    section = cfg["robustness"]
    output_dir = output_dir or section["corrupt_output_dir"]
    if output_dir is None:
        raise UserError("No output folder: pass --output DIR or set [robustness] corrupt_output_dir.")
    if input_dir is None:
        split = section["split"]
        pairs = split_pairs(cfg, split) if config_path else None
        if pairs is None:
            raise UserError(f"No input images: pass --input DIR, or set [{split}] image_datapath and "
                            f"mask_datapath ([robustness] split = \"{split}\").")
        return _corrupt_pairs(pairs, output_dir, section, cfg["dataset"].get("axes"), cfg["dataset"]["mask_threshold"]), Path(output_dir)
    return corrupt_dataset(input_dir, output_dir, section, cfg["dataset"].get("axes"), cfg["dataset"]["mask_threshold"]), Path(output_dir)
