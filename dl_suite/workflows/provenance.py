"""Run provenance: what a training run was made from (`provenance.json` of a run folder).

Records the resolved config and its SHA-256, the versions of Python, dl-suite, Keras, the
backend and NumPy, the seeds, the hardware (CPU name, cores, memory, GPUs) and the SHA-256 of
every input file (streamed; capped at `io.provenance_files.MAX_HASH_BYTES` in total). The
train workflow writes it as `runs.PROVENANCE_FILE`; `export` copies it into exported packages.
"""

import hashlib
import json
import logging
import os
import platform
import sys
import time
from importlib import metadata

from dl_suite.errors import DataError

logger = logging.getLogger(__name__)

_PACKAGES = ("keras", "tensorflow", "tensorflow-cpu", "jax", "jaxlib", "numpy", "scipy",
             "scikit-image", "opencv-python-headless", "tifffile")


def config_hash(cfg):
    """SHA-256 of the resolved config as canonical JSON (sorted keys), so equal configs match."""
    text = json.dumps(cfg.to_dict(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def package_versions():
    """{distribution: version} of the packages a run depends on (those installed)."""
    import dl_suite

    versions = {"python": platform.python_version(), "dl-suite": dl_suite.__version__}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def _gpus(backend):
    try:
        if backend == "tensorflow":
            import tensorflow as tf

            return [tf.config.experimental.get_device_details(d).get("device_name", d.name)
                    for d in tf.config.list_physical_devices("GPU")]
        if backend == "jax":
            import jax

            return [d.device_kind for d in jax.devices() if d.platform != "cpu"]
        if backend == "torch":
            import torch

            return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    except Exception as exc:  # noqa: BLE001 - a driver problem must not stop training
        logger.debug("GPU query failed: %s", exc)
    return []


def hardware(backend):
    """CPU name, logical cores, memory and GPU names."""
    from dl_suite.io.provenance_files import cpu_name, memory_bytes

    return {"platform": platform.platform(), "cpu": cpu_name(), "cpu_cores": os.cpu_count(),
            "memory_bytes": memory_bytes(), "gpus": _gpus(backend)}


def _input_paths(cfg):
    """Image, mask and ignore-mask files of the training (and validation) split, or [] with
    the reason."""
    from dl_suite.io.pairs import find_ignore_masks
    from dl_suite.workflows.data import split_pairs

    paths = []
    try:
        for split, key in (("train", "ignore_datapath"), ("val", "val_ignore_datapath")):
            pairs = split_pairs(cfg, split) or []
            for image, mask in pairs:
                paths += [image, mask]
            if pairs and cfg["train"].get(key):
                paths += sorted(find_ignore_masks(cfg["train"][key], [m for _, m in pairs],
                                                  f"train.{key}").values())
    except DataError as exc:  # e.g. video projects: training reports the real problem later
        return [], str(exc)
    return paths, None


def collect_provenance(cfg):
    """The provenance dict of a run about to train with `cfg` (hashes the input files)."""
    import keras

    from dl_suite.io.provenance_files import hash_files

    backend = keras.backend.backend()
    start = time.perf_counter()
    paths, problem = _input_paths(cfg)
    inputs = hash_files(paths)
    inputs["seconds"] = round(time.perf_counter() - start, 3)
    if problem:
        inputs["not_listed"] = problem
    return {
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": " ".join(sys.argv),
        "config_sha256": config_hash(cfg),
        "config_source": str(cfg.source) if cfg.source else None,
        "config": cfg.to_dict(),
        "versions": package_versions(),
        "backend": backend,
        "seeds": {"train.seed": cfg["train"]["seed"],
                  "train.deterministic": cfg["train"]["deterministic"],
                  "generator.seed": cfg["generator"].get("seed"),
                  "robustness.seed": cfg["robustness"].get("seed")},
        "hardware": hardware(backend),
        "inputs": inputs,
    }
