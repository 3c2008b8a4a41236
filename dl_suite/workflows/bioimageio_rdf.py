"""The bioimage.io description (`rdf.yaml`, model format 0.5) of an exported dl-suite run.

Pure functions from a run's config to the dicts of the description: the normalisation as
bioimage.io preprocessing, the final activation and threshold as postprocessing, tensor axes in
the model's native (batch, y, x, channel) order. Nothing here touches files.
"""

from dl_suite.errors import UserError

INPUT_ID = "raw"
OUTPUT_ID = "probability"
EPS = 1e-6
# Per image: statistics over y, x and the channels together, as dl-suite normalises (not batch).
REDUCE_AXES = ["y", "x", "channel"]
FILTER_KEYS = ("color_converter", "gamma", "sharpening")


def preprocessing(image_section):
    """bioimage.io preprocessing steps equal to dl-suite's normalisation of `[image]`.

    Raises:
        UserError: a normalisation or image filter that bioimage.io cannot express (named).
    """
    active = [key for key in FILTER_KEYS if image_section.get(key)]
    if active:
        raise UserError(
            f"Cannot export to bioimage.io: the run applies the image filter(s) "
            f"{', '.join(f'image.{k}' for k in active)}, which bioimage.io preprocessing cannot "
            "express. Export as keras or savedmodel instead, or retrain without them."
        )
    method = str(image_section["normalization"]).lower()
    steps = [{"id": "ensure_dtype", "kwargs": {"dtype": "float32"}}]
    if method == "none":
        return steps
    if method in ("div255", "255"):
        return steps + [{"id": "scale_linear", "kwargs": {"gain": 1.0 / 255.0, "offset": 0.0}}]
    if method == "minmax":
        return steps + [{"id": "scale_range", "kwargs": {
            "axes": REDUCE_AXES, "min_percentile": 0.0, "max_percentile": 100.0, "eps": EPS}}]
    if method == "percentile":
        return steps + [{"id": "scale_range", "kwargs": {
            "axes": REDUCE_AXES, "min_percentile": float(image_section["p_low"]),
            "max_percentile": float(image_section["p_high"]), "eps": EPS}}]
    if method == "zscore":
        return steps + [{"id": "zero_mean_unit_variance", "kwargs": {"axes": REDUCE_AXES, "eps": EPS}}]
    raise UserError(
        f"Cannot export to bioimage.io: the run's normalisation image.normalization = '{method}' "
        "has no bioimage.io preprocessing (expressible: none, div255, minmax, percentile, "
        "zscore). Export as keras or savedmodel instead, or retrain with one of those."
    )


def channel_names(classes, background_channel=None, contour_channel=None, distance_levels=False):
    """Output channel names: `class<i>`, or the roles of a contour-target run (background,
    interior, contour) or a distance-level run (background, level1..levelK), whose foreground
    is 1 - background."""
    names = [f"class{i}" for i in range(classes)]
    if background_channel is None:
        return names
    if distance_levels and background_channel % classes == 0:
        return ["background"] + [f"level{k}" for k in range(1, classes)]
    roles = {background_channel % classes: "background"}
    if contour_channel is not None:
        roles[contour_channel % classes] = "contour"
    return [roles.get(i, "interior" if len(roles) == 2 and classes == 3 else name)
            for i, name in enumerate(names)]


def foreground_note(names, background_channel, threshold):
    """The README/description sentence on how dl-suite turns class probabilities into its mask."""
    rule = f"1 - channel {background_channel % len(names)} (`{names[background_channel % len(names)]}`)"
    at = "per image (no fixed threshold)" if threshold is None else f"above {threshold:g}"
    return (f"dl-suite's foreground is {rule}: the sum of the object classes; its mask is that "
            f"foreground {at}")


def postprocessing(activation, threshold):
    """(steps, note): the final activation (and the threshold for one sigmoid channel).

    The exported network ends at the logits; `activation` is the layer dl-suite applies after
    them. `threshold` None (e.g. Otsu per image) leaves probabilities as the output.
    """
    if activation == "sigmoid":
        steps = [{"id": "sigmoid"}]
        if threshold is None:
            return steps, "sigmoid; no fixed threshold (the run thresholds per image), so the output is the probability map"
        steps.append({"id": "binarize", "kwargs": {"threshold": float(threshold)}})
        return steps, f"sigmoid, then binarize at {threshold:g} (output = mask, 0/1)"
    if activation == "softmax":
        return [{"id": "softmax", "kwargs": {"axis": "channel"}}], "softmax over the class channel (class probabilities)"
    if activation == "linear":
        return [], "none (the network outputs raw scores)"
    raise UserError(f"Cannot export to bioimage.io: the output activation '{activation}' has no "
                    "bioimage.io postprocessing (expressible: sigmoid, softmax, linear).")


def space_axes(size, step):
    """y and x axes: fixed `size` (h, w) when step is None, else `{min, step}` per axis."""
    axes = []
    for axis_id, value in zip(("y", "x"), size):
        axes.append({"type": "space", "id": axis_id,
                     "size": int(value) if step is None else {"min": int(value), "step": int(step)}})
    return axes


def tensors(*, channels, classes, size, step, pre, post, data_range, names=None,
            description="per-pixel output after postprocessing"):
    """(inputs, outputs) descriptions in the native order (batch, y, x, channel); `names`:
    the output channel names (default `class<i>`)."""
    inputs = [{
        "id": INPUT_ID,
        "description": "image, channels last, raw intensities (preprocessing normalises them)",
        "axes": [{"type": "batch"}, *space_axes(size, step),
                 {"type": "channel", "channel_names": [f"c{i}" for i in range(channels)]}],
        "test_tensor": {"source": "test_input.npy"},
        "sample_tensor": {"source": "sample_input.tif"},
        "data": {"type": "float32"},
        "preprocessing": pre,
    }]
    out_axes = [{"type": "batch"}]
    for axis_id in ("y", "x"):
        out_axes.append({"type": "space", "id": axis_id,
                         "size": {"tensor_id": INPUT_ID, "axis_id": axis_id}})
    out_axes.append({"type": "channel", "channel_names": list(names or channel_names(classes))})
    outputs = [{
        "id": OUTPUT_ID,
        "description": description,
        "axes": out_axes,
        "test_tensor": {"source": "test_output.npy"},
        "sample_tensor": {"source": "sample_output.tif"},
        "data": {"type": "float32", "range": list(data_range)},
        "postprocessing": post,
    }]
    return inputs, outputs


def model_rdf(*, name, description, inputs, outputs, versions, format_version, attachments,
              dl_suite_config, authors=None):
    """The whole description dict (all sources relative file names in the package)."""
    authors = authors or [{"name": "dl-suite user"}]
    maintainers = [{"name": a["name"], "github_user": a["github_user"]}
                   for a in authors if a.get("github_user")]
    rdf = {
        "type": "model",
        "format_version": format_version,
        "name": name,
        "description": description,
        "authors": authors,
        "cite": [{"text": "Ronneberger, Fischer and Brox: U-Net: Convolutional Networks for "
                          "Biomedical Image Segmentation (MICCAI 2015)",
                  "doi": "10.1007/978-3-319-24574-4_28"}],
        "license": "MIT",
        "documentation": {"source": "README.md"},
        "covers": [{"source": "cover.png"}],
        "tags": ["segmentation", "2d", "keras", "tensorflow", "dl-suite", "fluorescence-light-microscopy"],
        "version": "0.1.0",
        "inputs": inputs,
        "outputs": outputs,
        "attachments": [{"source": s} for s in attachments],
        "weights": {
            "keras_v3": {"source": "model.keras", "keras_version": versions["keras"],
                         "backend": ["tensorflow", versions["tensorflow"]]},
            "tensorflow_saved_model_bundle": {"source": "savedmodel.zip", "parent": "keras_v3",
                                              "tensorflow_version": versions["tensorflow"]},
        },
        "config": {"dl_suite": dl_suite_config},
    }
    if maintainers:  # without one, validation warns "Missing maintainers"
        rdf["maintainers"] = maintainers
    return rdf
