"""What this installation can do (`dl-suite doctor`): versions, devices, memory, optional parts.

Every probe is guarded: a missing or broken package is reported, never raised.
"""

import importlib
import importlib.metadata
import importlib.util
import os
import platform
import shutil
import subprocess
import sys

import dl_suite

# (import name, distribution name, what is lost without it)
REQUIRED = (
    ("keras", "keras", "everything"), ("numpy", "numpy", "everything"),
    ("tensorflow", "tensorflow", "the default Keras backend, robust PGD training, TensorBoard"),
    ("scipy", "scipy", "post-processing"), ("skimage", "scikit-image", "post-processing, ISBI scores"),
    ("cv2", "opencv-python-headless", "augmentation"), ("tifffile", "tifffile", "TIFF input/output"),
    ("jsonschema", "jsonschema", "config validation"), ("matplotlib", "matplotlib", "curves and plots"),
    ("jinja2", "jinja2", "the HTML evaluation report"), ("pandas", "pandas", "tables"),
    ("laptrack", "laptrack", "`dl-suite track`"), ("ctc_metrics", "py-ctcmetrics", "CTC tracking scores"),
)
OPTIONAL = (
    ("jax", "jax", "KERAS_BACKEND=jax (the JAX test run)"),
    ("torch", "torch", "KERAS_BACKEND=torch"),
    ("pydot", "pydot", "the model graph PNG of `dl-suite inspect` (also needs Graphviz `dot`)"),
    ("pytrackmate", "pytrackmate", "the TrackMate XML round-trip test"),
    ("albumentations", "albumentations", "benchmarks/augment_throughput.py comparison"),
    ("psutil", "psutil", "available memory including caches in `dl-suite doctor`; benchmarks"),
    ("playwright", "playwright", "the headless-browser test of the HTML report (with Debian `chromium`)"),
    ("pytest", "pytest", "the test suite"),
)
PROGRAMS = (
    ("dot", "the model graph PNG of `dl-suite inspect`"),
    ("chromium", "the headless-browser test of the HTML report"),
    ("nvidia-smi", "GPU memory figures in `dl-suite doctor`"),
)


def _version(module_name, dist_name):
    """Installed version of a package, or None when it cannot be imported."""
    if importlib.util.find_spec(module_name) is None:
        return None
    for name in (dist_name, f"{dist_name}-cpu", module_name):
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return getattr(importlib.import_module(module_name), "__version__", "present")


def _gib(num_bytes):
    return f"{num_bytes / 2**30:.1f} GiB"


def memory():
    """[(what, figure)] of host memory and free disk space in the current folder."""
    rows = []
    try:
        import psutil

        mem = psutil.virtual_memory()
        rows.append(("RAM available", f"{_gib(mem.available)} of {_gib(mem.total)}"))
    except ImportError:
        try:
            page = os.sysconf("SC_PAGE_SIZE")
            free, total = os.sysconf("SC_AVPHYS_PAGES") * page, os.sysconf("SC_PHYS_PAGES") * page
            rows.append(("RAM free", f"{_gib(free)} of {_gib(total)} (caches not counted)"))
        except (ValueError, OSError, AttributeError):
            rows.append(("RAM", "unknown on this system"))
    disk = shutil.disk_usage(os.getcwd())
    rows.append(("disk free here", f"{_gib(disk.free)} of {_gib(disk.total)}"))
    return rows


def _nvidia_smi():
    if not shutil.which("nvidia-smi"):
        return []
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,memory.free,memory.total", "--format=csv,noheader"],
            capture_output=True, text=True, timeout=20, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [f"{name.strip()} ({free.strip()} free of {total.strip()})"
            for name, free, total in (line.split(",") for line in out.strip().splitlines() if line.count(",") == 2)]


def gpus(backend):
    """Names of the accelerators the Keras backend sees (empty: it runs on the CPU)."""
    try:
        if backend == "tensorflow":
            import tensorflow as tf

            devices = tf.config.list_physical_devices("GPU")
            names = [tf.config.experimental.get_device_details(d).get("device_name", d.name) for d in devices]
        elif backend == "jax":
            import jax

            names = [str(d) for d in jax.devices() if d.platform != "cpu"]
        elif backend == "torch":
            import torch

            names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        else:
            names = []
    except Exception as err:  # a broken CUDA set-up must not stop the report
        return [f"could not query the {backend} backend ({type(err).__name__}: {err})"]
    smi = _nvidia_smi()
    return smi if smi and len(smi) == len(names) else names


def compute():
    """[(what, figure)]: the CPU and whether it (or the GPU) computes bfloat16 natively, which
    decides `train.mixed_precision = "mixed_bfloat16_if_native"`."""
    from dl_suite.io.provenance_files import cpu_name

    rows = [("CPU", f"{cpu_name()}, {os.cpu_count()} logical cores")]
    try:
        from dl_suite.precision import native_bfloat16

        native, why = native_bfloat16()
    except Exception as err:  # a backend that fails to load: report it, go on
        return rows + [("bfloat16", f"unknown ({type(err).__name__}: {err})")]
    policy = "bfloat16" if native else "float32"
    rows.append(("bfloat16", f"{'native' if native else 'emulated (slow)'}: {why}; "
                             f"mixed_bfloat16_if_native trains in {policy} here"))
    return rows


def report():
    """The whole diagnosis as a dict of lists (see `format_report`)."""
    versions = [("Python", f"{platform.python_version()} ({sys.executable})"),
                ("platform", platform.platform()), ("dl-suite", dl_suite.__version__)]
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    keras_version = _version("keras", "keras")
    if keras_version:
        versions.append(("Keras", keras_version))
        try:
            import keras

            backend = keras.backend.backend()
        except Exception as err:  # e.g. a backend that fails to load: report it, go on
            versions.append(("Keras import", f"FAILED ({type(err).__name__}: {err})"))
    versions.append(("Keras backend", backend))
    versions.append(("TensorFlow", _version("tensorflow", "tensorflow") or "not installed"))
    required = [(dist, _version(module, dist), lost) for module, dist, lost in REQUIRED]
    optional = [(dist, _version(module, dist), lost) for module, dist, lost in OPTIONAL]
    optional += [(f"{program} (program)", shutil.which(program), lost) for program, lost in PROGRAMS]
    return {"versions": versions, "gpus": gpus(backend), "compute": compute(), "memory": memory(),
            "required": required, "optional": optional}


def format_report(data):
    """Text lines for the terminal."""
    lines = ["Versions"] + [f"  {name:<16} {value}" for name, value in data["versions"]]
    lines.append("GPUs visible to the backend")
    lines += [f"  {name}" for name in data["gpus"]] or ["  none: training and inference run on the CPU"]
    lines.append("Compute")
    lines += [f"  {name:<16} {value}" for name, value in data.get("compute", [])]
    lines.append("Memory")
    lines += [f"  {name:<16} {value}" for name, value in data["memory"]]
    for title, rows in (("Required packages", data["required"]), ("Optional parts", data["optional"])):
        lines.append(title)
        for name, version, lost in rows:
            state = f"ok ({version})" if version else f"MISSING, disables: {lost}"
            lines.append(f"  {name:<24} {state}")
    return lines


def missing_required(data):
    """Names of required packages that are not installed."""
    return [name for name, version, _ in data["required"] if not version]
