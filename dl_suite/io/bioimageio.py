"""bioimage.io model packages: writing (`rdf.yaml` + files -> zip), validating, reading back.

Needs the optional packages `bioimageio.spec` (writing, validation) and `bioimageio.core`
(`test_model`); `pip install "dl-suite[bioimageio]"`.
"""

import contextlib
import logging
import zipfile
from pathlib import Path

import numpy as np

from dl_suite.errors import DataError, UserError

logger = logging.getLogger(__name__)

RDF_NAMES = ("rdf.yaml", "bioimageio.yaml")


def require_spec():
    """The `bioimageio.spec` module, or a UserError saying how to install it."""
    try:
        from bioimageio import spec
    except ImportError as exc:
        raise UserError(
            "bioimage.io export needs the package bioimageio.spec: pip install "
            "\"dl-suite[bioimageio]\" (installs bioimageio.spec and bioimageio.core)."
        ) from exc
    return spec


def spec_format_version():
    """The newest model format version the installed bioimageio.spec writes (e.g. '0.5.4')."""
    from bioimageio.spec.model.v0_5 import ModelDescr

    return str(ModelDescr.implemented_format_version)


def write_tensor_npy(path, array):
    np.save(path, np.ascontiguousarray(array))


def write_sample_tif(path, array):
    """A sample tensor as a TIFF image (bioimage.io rejects .npy samples)."""
    import tifffile

    tifffile.imwrite(path, np.ascontiguousarray(array))


def write_yaml(path, data):
    import yaml

    Path(path).write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


@contextlib.contextmanager
def trusted_github_users(names):
    """Validation without looking GitHub user names up online.

    With io checks on, bioimageio.spec asks api.github.com whether each maintainer exists, which
    fails offline ("Name or service not known"). The names the exporting user gave are trusted
    here instead (bioimage.io checks them again on upload).
    """
    try:  # a private set of bioimageio.spec (0.5.x); without it, names are looked up online
        from bioimageio.spec._internal import constants
    except ImportError:
        yield
        return
    added = {n.lower() for n in names if n} - constants.KNOWN_GITHUB_USERS
    constants.KNOWN_GITHUB_USERS.update(added)
    try:
        yield
    finally:
        constants.KNOWN_GITHUB_USERS.difference_update(added)


def _github_users(rdf):
    return [p.get("github_user") for key in ("authors", "maintainers") for p in rdf.get(key) or []]


def package_zip(staging, zip_path):
    """Validates `staging/rdf.yaml` (with io checks, offline) and packages it as `zip_path`.

    Returns:
        The validation summary of the packaged description.

    Raises:
        DataError: the description does not validate (the summary text says why).
    """
    import yaml

    spec = require_spec()
    rdf = yaml.safe_load((Path(staging) / "rdf.yaml").read_text(encoding="utf-8"))
    with trusted_github_users(_github_users(rdf)):
        descr = spec.load_description(Path(staging) / "rdf.yaml", perform_io_checks=True)
        summary = descr.validation_summary
        if summary.status != "valid-format":
            raise DataError(f"The bioimage.io description did not validate:\n{summary.format()}")
        try:
            spec.save_bioimageio_package(descr, output_path=Path(zip_path))
        except BaseException:
            Path(zip_path).unlink(missing_ok=True)  # never leave a half-written zip
            raise
    return summary


def validate_package(path, perform_io_checks=True, github_users=()):
    """(status, warnings, report text) of a package zip or yaml from bioimageio.spec
    (`github_users`: maintainer names trusted without an online lookup)."""
    spec = require_spec()
    with trusted_github_users(github_users):
        descr = spec.load_description(Path(path), perform_io_checks=perform_io_checks)
    summary = descr.validation_summary
    warnings = [w for d in summary.details for w in d.warnings]
    return summary.status, warnings, summary.format()


@contextlib.contextmanager
def _in_temp_cwd():
    """bioimageio.core unzips SavedModel weights into ./bioimageio_unzipped_tf_weights: keep
    that out of the user's working folder."""
    import os
    import tempfile

    before = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="dl-suite-bioimageio-") as tmp:
        os.chdir(tmp)
        try:
            yield
        finally:
            os.chdir(before)


@contextlib.contextmanager
def _restored_environ():
    """bioimageio.core writes os.environ: KERAS_BACKEND (default 'torch', when its Keras backend
    is imported) and TF_ENABLE_ONEDNN_OPTS. Child processes started later (e.g. a training)
    would inherit them, so the environment is restored afterwards; meanwhile KERAS_BACKEND is
    the backend Keras already runs with."""
    import os

    import keras

    before = dict(os.environ)
    os.environ.setdefault("KERAS_BACKEND", keras.backend.backend())
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(before)


def run_model_test(path, weight_format=None, github_users=()):
    """bioimageio.core's `test_model` on a package: (status, report text)."""
    path = Path(path).resolve()  # before the working folder changes
    with _restored_environ():
        try:
            from bioimageio.core import test_model
        except ImportError as exc:
            raise UserError("Testing a bioimage.io package needs bioimageio.core: pip install "
                            "\"dl-suite[bioimageio]\".") from exc
        with trusted_github_users(github_users), _in_temp_cwd():
            summary = test_model(path, weight_format=weight_format)
    return summary.status, summary.format()


def is_package(path):
    """True for a bioimage.io package: a .zip holding an rdf.yaml, or a folder with one."""
    path = Path(path)
    if path.is_dir():
        return any((path / n).is_file() for n in RDF_NAMES)
    if path.is_file() and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            return any(n in zf.namelist() for n in RDF_NAMES)
    return False


def extract_package(path, folder):
    """Copies a package's files (zip or folder) into `folder`; returns its rdf dict.

    Raises:
        DataError: no rdf.yaml, or unreadable yaml.
        UserError: PyYAML is not installed.
    """
    import shutil

    try:
        import yaml
    except ImportError as exc:
        raise UserError("Reading a bioimage.io package needs PyYAML: pip install "
                        "\"dl-suite[bioimageio]\".") from exc

    path, folder = Path(path), Path(folder)
    if path.is_dir():
        shutil.copytree(path, folder, dirs_exist_ok=True)
    else:
        with zipfile.ZipFile(path) as zf:
            for name in zf.namelist():
                target = (folder / name).resolve()
                if folder.resolve() not in target.parents:  # no paths outside the folder
                    raise DataError(f"'{path}' holds a file outside its folder: {name}.")
            zf.extractall(folder)
    rdf = next((folder / n for n in RDF_NAMES if (folder / n).is_file()), None)
    if rdf is None:
        raise DataError(f"'{path}' is not a bioimage.io package: it has no rdf.yaml.")
    try:
        return yaml.safe_load(rdf.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise DataError(f"'{rdf}' is not valid YAML: {exc}") from exc
