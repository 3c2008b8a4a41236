"""A bioimage.io package made by dl-suite used as a run: `infer --run model.bioimageio.zip`.

The package carries the run's config.json, run.json and threshold.json; its `model.keras`
is the network up to the logits, and the final activation is named in
`config.dl_suite.last_activation`. `opened_run` lays these out as a temporary run folder (the
activation appended again), so inference reads it exactly like the original run.
"""

import contextlib
import tempfile
from pathlib import Path

from dl_suite.errors import UserError
from dl_suite.workflows import runs


def _as_run_folder(package, folder):
    """Extracts `package` into `folder`/pkg and builds the run folder `folder`/run."""
    import keras

    from dl_suite.io import load_keras_model, save_keras_model, write_text
    from dl_suite.io.bioimageio import extract_package
    from dl_suite.io.files import read_texts

    extracted, run_dir = Path(folder) / "package", Path(folder) / "run"
    rdf = extract_package(package, extracted)
    info = ((rdf or {}).get("config") or {}).get("dl_suite")
    if not info or not (extracted / runs.CONFIG_FILE).is_file():
        raise UserError(f"'{package}' is a bioimage.io package, but not one exported by dl-suite "
                        "(no config.dl_suite section / config.json); only those can be used as a run.")
    logits = load_keras_model(extracted / "model.keras")
    activation = info.get("last_activation") or "linear"
    output = keras.layers.Activation(activation, dtype="float32", name="main")(logits.outputs[0])
    model = keras.Model(logits.inputs, output, name=logits.name.removesuffix("_logits"))
    run_dir.mkdir()
    save_keras_model(model, run_dir / runs.BEST_MODEL)
    from dl_suite.evaluation.threshold import THRESHOLD_FILE

    for name, text in read_texts(extracted, (runs.CONFIG_FILE, runs.STATUS_FILE,
                                             runs.PROVENANCE_FILE, THRESHOLD_FILE)).items():
        write_text(run_dir / name, text)
    return run_dir


def is_package_path(path):
    from dl_suite.io.bioimageio import is_package

    return path is not None and is_package(path)


@contextlib.contextmanager
def opened_run(cfg, run=None):
    """The run folder to infer with: `run` (a run folder or a dl-suite bioimage.io package,
    zip or folder), else the latest run under train.model_dir. A package is unpacked into a
    temporary folder that is removed when the block ends.

    Yields:
        Path of a run folder.
    """
    if not is_package_path(run):
        yield runs.resolve_run(cfg, run)
        return
    with tempfile.TemporaryDirectory(prefix="dl-suite-package-") as tmp:
        yield _as_run_folder(run, tmp)
