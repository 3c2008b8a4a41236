"""The bioimage.io export of a run: logits network + pre/postprocessing + test tensors -> zip.

The exported network stops before the final activation layer, which (with the threshold) the
package declares as postprocessing, so bioimage.io tools apply it. Test tensors come from the
first test image of the run's data (cropped to at most `MAX_TEST_SIZE` px); the expected output
is computed here the way bioimage.io does it and checked against every weight format before the
package is written.
"""

import logging
import tempfile
from pathlib import Path

import numpy as np

from dl_suite.errors import DataError, UserError
from dl_suite.workflows import bioimageio_rdf as rdf_lib
from dl_suite.workflows.export import (
    MAX_TEST_SIZE,
    free_model,
    provenance_summary,
    require_tensorflow,
    run_texts,
    temp_name,
)

logger = logging.getLogger(__name__)

TOLERANCE = 1e-4  # max |difference| accepted between weight formats on the test tensor


def split_activation(model):
    """(logits model, activation name) when the model ends in an Activation layer, else
    (model, None)."""
    import keras

    last = model.get_layer(model.outputs[0]._keras_history[0].name)
    if not isinstance(last, keras.layers.Activation):
        return model, None
    name = keras.activations.serialize(last.activation)
    name = name if isinstance(name, str) else name.get("config", {}).get("name", str(name))
    logits = keras.layers.Activation("linear", dtype="float32", name="logits")(last.input)
    return keras.Model(model.inputs, logits, name=f"{model.name}_logits"), name


def run_threshold(cfg, run_dir, segment=None):
    """The run's fixed threshold (stored optimum, infer.threshold or 0.5), or None (Otsu);
    `segment`: the run's `RunPostprocess` when already made."""
    from dl_suite.workflows.postprocessing import run_postprocess

    segment = segment or run_postprocess(cfg, run_dir)
    method = segment.options.threshold_method
    if method == "run":
        if segment.run_threshold is not None:
            return float(segment.run_threshold)
        return 0.5 if segment.options.threshold is None else float(segment.options.threshold)
    if method == "fixed":
        return float(segment.options.threshold if segment.options.threshold is not None else 0.5)
    return None


def _candidate_images(cfg):
    from dl_suite.workflows.data import split_pairs

    for split in ("eval", "test", "train"):
        try:
            pairs = split_pairs(cfg, split)
        except DataError:
            continue
        if pairs:
            return [image for image, _ in pairs[:4]]
    raise UserError("Cannot export to bioimage.io: the run's config names no readable eval, "
                    "test or training images to make the test tensors from.")


def _test_raw(cfg, path, size, step):
    """A raw (Y, X, C) float32 crop of image `path` with a size the model accepts."""
    from dl_suite.data.preprocess import pad_to_size, to_model_channels
    from dl_suite.io import read_image

    image = np.asarray(read_image(path))
    if image.ndim == 2:
        image = image[..., None]
    elif image.ndim == 4 or (image.ndim == 3 and image.shape[-1] > 4):
        image = image[0] if image.ndim == 4 else image[0][..., None]  # first frame of a stack
    image = to_model_channels(image, cfg["model"]["image_channels"], str(path)).astype(np.float32)
    if step is None:  # fixed-size model
        h, w = size
    else:
        side = min(MAX_TEST_SIZE, min(image.shape[:2]))
        h = w = max(size[0], side // step * step)
    image = pad_to_size(image, (h, w))
    return np.ascontiguousarray(image[:h, :w])


def _postprocess(logits, activation, threshold):
    if activation == "sigmoid":
        prob = 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))
        return (prob > threshold).astype(np.float32) if threshold is not None else prob.astype(np.float32)
    if activation == "softmax":
        e = np.exp(logits - logits.max(axis=-1, keepdims=True))
        return (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)
    return logits.astype(np.float32)


def _test_tensors(cfg, logits_model, activation, threshold, size, step):
    """(raw input (1, Y, X, C), expected output (1, Y, X, K), probabilities) of the test image
    with the most foreground among the first few (an all-zero output is rejected)."""
    from dl_suite.data.preprocess import preprocess_image

    best = None
    for path in _candidate_images(cfg):
        raw = _test_raw(cfg, path, size, step)
        x = preprocess_image(raw, cfg)[None]
        logits = np.asarray(logits_model.predict_on_batch(x), np.float32)
        out = _postprocess(logits, activation, threshold)
        score = float(np.abs(out).sum())
        if best is None or score > best[0]:
            best = (score, raw[None], out, _postprocess(logits, activation, None))
    if float(np.abs(best[2]).max()) < 1e-4:
        raise UserError(
            "Cannot export to bioimage.io: the model's output on the test images is all zero "
            "(below 1e-4), and bioimage.io rejects such test tensors. Train the model further, "
            "or lower the run's threshold (infer.threshold)."
        )
    return best[1], best[2], best[3]


def _cover(raw, prob, threshold, options):
    """RGB uint8 (Y, 2X): the normalised image beside it with the mask tinted red (foreground
    by infer's rule, `foreground_map` with the run's post-processing `options`)."""
    from dl_suite.inference.postprocess import foreground_map

    grey = raw[0].mean(axis=-1)
    lo, hi = np.percentile(grey, [1, 99.8])
    grey = np.clip((grey - lo) / max(hi - lo, 1e-6), 0, 1)
    rgb = np.repeat(grey[..., None], 3, axis=-1)
    fg = foreground_map(prob[0], options)
    mask = fg > (0.5 if threshold is None else threshold)
    tinted = rgb.copy()
    tinted[mask] = 0.5 * tinted[mask] + 0.5 * np.array([1.0, 0.1, 0.1])
    cover = np.concatenate([rgb, tinted], axis=1)
    scale = max(1, 256 // cover.shape[0])
    cover = np.kron(cover, np.ones((scale, scale, 1)))  # nearest upscaling to ~256 px high
    return (cover * 255).round().astype(np.uint8)


def _custom_layers(model):
    return sorted({type(l).__name__ for l in model.layers if not type(l).__module__.startswith("keras")})


def _readme(*, name, cfg, pre_note, post_note, checks, custom, threshold, texts, foreground=None):
    custom_note = (f"The network uses dl-suite layers ({', '.join(custom)}): loading `model.keras` "
                   "needs `pip install dl-suite` (it registers them); the SavedModel needs nothing."
                   if custom else "The network uses built-in Keras layers only.")
    model = cfg["model"]
    lines = [
        f"# {name}", "",
        (f"2-D segmentation model `{model['name']}` trained with dl-suite "
         f"({model['num_classes']} class(es), {model['image_channels']} input channel(s))."), "",
        "## Inputs and outputs", "",
        "- Input `raw`: (batch, y, x, channel), raw intensities as float32.",
        f"- Preprocessing: {pre_note}.",
        f"- Output `probability`: (batch, y, x, class); postprocessing: {post_note}.",
        *([f"- {foreground}."] if foreground else []),
        ("- dl-suite's own `infer` additionally applies the run's mask clean-up (minimum object "
         "size, hole filling, instance labels); those steps have no bioimage.io equivalent."),
        f"- {custom_note}", "",
        "## Validation", "",
        ("Before packaging, dl-suite recomputed `test_output.npy` from `test_input.npy` with each "
         "weight format (the run's normalisation, which the declared preprocessing reproduces, "
         "then the network and the declared postprocessing):"), "",
    ]
    lines += [f"- `{fmt}`: max |difference| {diff:.3g}" for fmt, diff in checks.items()]
    lines += ["", ("The package validates with `bioimageio validate-format rdf.yaml` and "
                   "`bioimageio test rdf.yaml` (bioimageio.core `test_model`)."), "",
              "## Provenance", "",
              "`config.json` is the resolved training config, `provenance.json` the package "
              "versions, seeds, hardware and input-file hashes of the training run"
              + (", `threshold.json` the threshold optimised on validation images."
                 if "threshold.json" in texts else ".")]
    if threshold is not None:
        lines += ["", f"Threshold used for the mask: {threshold:g}."]
    return "\n".join(lines) + "\n"


def _pre_note(steps):
    return ", then ".join(f"{s['id']}({', '.join(f'{k}={v}' for k, v in s.get('kwargs', {}).items())})"
                          for s in steps)


def _check_formats(staging, raw, expected, cfg, activation, threshold):
    """Max |difference| to `expected` of the keras_v3 and SavedModel files (raises if too big)."""
    import keras

    from dl_suite.data.preprocess import preprocess_image
    from dl_suite.io import load_keras_model

    x = preprocess_image(raw[0], cfg)[None]
    got = {"keras_v3": load_keras_model(staging / "model.keras").predict_on_batch(x)}
    layer = keras.layers.TFSMLayer(str(staging / "savedmodel"), call_endpoint="serve")
    got["tensorflow_saved_model_bundle"] = layer(x)[rdf_lib.OUTPUT_ID]
    checks = {}
    for fmt, logits in got.items():
        out = _postprocess(np.asarray(logits, np.float32), activation, threshold)
        checks[fmt] = float(np.abs(out - expected).max())
        if checks[fmt] > TOLERANCE:
            raise DataError(f"The exported {fmt} weights do not reproduce the test output "
                            f"(max |difference| {checks[fmt]:.3g}).")
    return checks


def export_bioimageio(run_dir, cfg, model, out, *, authors=None, test=False):
    """Writes the package zip `out`; see `workflows.export.export`."""
    from dl_suite.io import bioimageio as bio
    from dl_suite.io import save_keras_model, write_image, write_text
    from dl_suite.io.model_export import move_into_place, save_savedmodel, zip_folder
    from dl_suite.workflows.provenance import package_versions

    bio.require_spec()
    require_tensorflow("bioimage.io packages (SavedModel weights)")
    pre = rdf_lib.preprocessing(cfg["image"])  # before any work: may be inexpressible
    free, multiple = free_model(cfg, model)
    logits_model, activation = split_activation(free)
    if activation is None:
        activation = "linear"
    from dl_suite.workflows.postprocessing import run_postprocess

    segment = run_postprocess(cfg, run_dir)
    background = segment.options.background_channel if activation == "softmax" else None
    binary = activation == "sigmoid" and cfg["model"]["num_classes"] == 1
    # a contour-target run's threshold applies to 1 - background: stated, not a binarize step
    threshold = run_threshold(cfg, run_dir, segment) if binary or background is not None else None
    post, post_note = rdf_lib.postprocessing(activation, threshold if binary else None)
    fixed = free.inputs[0].shape[1] is not None
    size = tuple(int(s) for s in free.inputs[0].shape[1:3]) if fixed else (-(-16 // multiple) * multiple,) * 2
    step = None if fixed else multiple
    raw, expected, prob = _test_tensors(cfg, logits_model, activation, threshold, size, step)
    versions = package_versions()
    texts = run_texts(run_dir)
    name = f"dl-suite {cfg['model']['name']} {Path(run_dir).name}"
    classes = int(expected.shape[-1])
    data_range = (0.0, 1.0) if activation in ("sigmoid", "softmax") else (None, None)
    from dl_suite.data.targets import config_target_kind

    names = rdf_lib.channel_names(classes, background, segment.options.contour_channel,
                                  distance_levels=config_target_kind(cfg) == "distance")
    foreground = None if background is None else rdf_lib.foreground_note(names, background, threshold)
    inputs, outputs = rdf_lib.tensors(
        channels=int(raw.shape[-1]), classes=classes, size=size, step=step, pre=pre, post=post,
        data_range=data_range, names=names,
        description=("per-pixel class probabilities; dl-suite's foreground = 1 - background"
                     if foreground else "per-pixel output after postprocessing"))
    tf_version = versions.get("tensorflow") or versions.get("tensorflow-cpu")
    dl_config = {"run": Path(run_dir).name, "model": cfg["model"]["name"],
                 "last_activation": activation, "threshold": threshold,
                 **({"foreground": f"1 - channel {background % classes}"} if foreground else {}),
                 "input_multiple": multiple, **provenance_summary(texts)}
    rdf = rdf_lib.model_rdf(
        name=name[:64], description=(f"{cfg['model']['name']} segmentation model trained with "
                                     "dl-suite (Keras 3); exported with its normalisation and threshold."),
        inputs=inputs, outputs=outputs, versions={"keras": versions["keras"], "tensorflow": tf_version},
        format_version=bio.spec_format_version(), attachments=sorted(texts),
        dl_suite_config=dl_config, authors=authors)
    tmp_zip = temp_name(out).with_suffix(".zip")
    with tempfile.TemporaryDirectory(prefix=".export-", dir=out.parent) as tmp:
        staging = Path(tmp)
        save_keras_model(logits_model, staging / "model.keras")
        save_savedmodel(logits_model, staging / "savedmodel", output_id=rdf_lib.OUTPUT_ID)
        checks = _check_formats(staging, raw, expected, cfg, activation, threshold)
        zip_folder(staging / "savedmodel", staging / "savedmodel.zip", remove=True)
        bio.write_tensor_npy(staging / "test_input.npy", raw)
        bio.write_tensor_npy(staging / "test_output.npy", expected)
        bio.write_sample_tif(staging / "sample_input.tif", raw)
        bio.write_sample_tif(staging / "sample_output.tif", expected)
        write_image(staging / "cover.png", _cover(raw, prob, threshold, segment.options))
        for file_name, text in texts.items():
            write_text(staging / file_name, text)
        write_text(staging / "README.md", _readme(
            name=name, cfg=cfg, pre_note=_pre_note(pre), post_note=post_note, checks=checks,
            custom=_custom_layers(logits_model), threshold=threshold, texts=texts,
            foreground=foreground))
        bio.write_yaml(staging / "rdf.yaml", rdf)
        bio.package_zip(staging, tmp_zip)
    move_into_place(tmp_zip, out)
    users = [a.get("github_user") for a in authors or []]
    status, warnings, report = bio.validate_package(out, github_users=users)
    result = {"path": out, "validation": report, "status": status, "warnings": warnings,
              "format_checks": checks, "test": None}
    if test:
        result["test_status"], result["test"] = bio.run_model_test(out, github_users=users)
    logger.info("bioimage.io package %s: %s, %d warning(s).", out, status, len(warnings))
    return result
