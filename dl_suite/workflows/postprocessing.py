"""The one rule from probabilities to masks and labels, shared by `evaluate` and `infer`.

`run_postprocess(cfg, run_dir)` maps the config's [segmentation] / [infer] / [eval] keys and the
run's `threshold.json` to one `RunPostprocess`; `infer` writes its masks and labels with it and
`evaluate` scores exactly what it returns, so the two can never disagree.

Precedence (threshold_method 'run', the default): the threshold and minimum object size stored
in the run (optimised on validation images; a stored 0 is a real 0), else `infer.threshold`
(else 0.5) and `segmentation.min_size` (else `eval.min_object_size`); the split parameter
(`min_distance`, `seed_threshold` or `contour_threshold`) stored in the run when
`eval.split_grid` tuned it for the current instance method, else the [segmentation] value.
With 'fixed' or 'otsu' the stored values are not used.
"""

import logging
from dataclasses import dataclass, field, replace

import numpy as np

from dl_suite.inference.postprocess import (
    SPLIT_PARAMETERS, PostprocessOptions, postprocess, with_split_value,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunPostprocess:
    """Post-processing of one run: `options` plus the run's optimised threshold.

    Attributes:
        options: `PostprocessOptions` with the minimum object size resolved.
        run_threshold: the run's optimised threshold (None when the run has none).
        source: where the threshold and minimum size came from (for summary.json).
    """

    options: PostprocessOptions = field(default_factory=PostprocessOptions)
    run_threshold: float = None
    source: dict = field(default_factory=dict)

    def __call__(self, prob):
        """(H, W[, K]) probabilities -> (threshold, mask bool (H, W), labels (H, W) or None)."""
        _, threshold, mask, labels = postprocess(prob, self.options, run_threshold=self.run_threshold)
        return threshold, mask, labels

    def at(self, threshold, min_size, split_value=None):
        """The same post-processing with a fixed threshold and minimum size, and the instance
        split's parameter (`SPLIT_PARAMETERS`) set to `split_value` unless None (for tuning)."""
        options = replace(self.options, threshold_method="fixed", threshold=float(threshold),
                          min_size=int(min_size))
        if split_value is not None:
            options = with_split_value(options, split_value)
        return RunPostprocess(options, None, {"threshold": "fixed", "min_size": "fixed"})


# The [segmentation] settings a tuned threshold and minimum size depend on: every one that
# changes the objects, plus the instance method's split parameter (`SPLIT_PARAMETERS`) and,
# for the seeded splits, their minimum seed size.
_TUNING_SETTINGS = ("instance_method", "blursize", "fill_holes", "max_hole_size",
                    "border_min_size", "clear_border", "opening_radius", "closing_radius",
                    "separate_touching")


def tuning_settings(options):
    """{key: value} of the [segmentation] settings under which a threshold is tuned
    (stored in threshold.json as `tuned_with`, compared by `run_postprocess`)."""
    split = SPLIT_PARAMETERS.get(options.instance_method)
    names = _TUNING_SETTINGS + ((split,) if split else ()) + (
        ("min_seed_size",) if split and split != "min_distance" else ())
    return {name: getattr(options, name) for name in names}


def _warn_if_tuned_otherwise(options, stored):
    """Warns when the run's threshold.json was tuned under other [segmentation] settings than
    the ones now in effect (a re-evaluation with `--set`, or an edited config); a changed
    instance method is named alone (its parameters mean something else)."""
    tuned_with = (stored or {}).get("tuned_with")
    if not isinstance(tuned_with, dict) or not tuned_with:
        return
    now = tuning_settings(options)
    if tuned_with.get("instance_method", now["instance_method"]) != now["instance_method"]:
        now = {"instance_method": now["instance_method"]}
    changed = [f"segmentation.{k} = {tuned_with[k]!r} then, {v!r} now" for k, v in now.items()
               if k in tuned_with and tuned_with[k] != v]
    if changed:
        logger.warning(
            "The run's threshold (%s) and minimum object size (%s) in threshold.json were tuned "
            "on the validation images with other settings: %s. To tune them for the settings "
            "now in use, run the evaluation again (2.evaluate) with this config.",
            stored.get("threshold"), stored.get("min_size"), "; ".join(changed))


def stored_tuning(run_dir):
    """The run's threshold.json as a dict, or None when the run has none."""
    from dl_suite.evaluation.threshold import read_threshold_file

    return read_threshold_file(run_dir) if run_dir is not None else None


def output_channels(options, run_cfg):
    """`options` with the channel roles of the run's outputs filled in: a contour- or
    distance-target run's foreground is 1 - background (channel 0) and a contour run's contours
    are channel 2, unless the config names other channels (background_channel, or a
    foreground_channel other than -1)."""
    from dl_suite.data.targets import config_target_kind, uses_contour_targets, uses_instance_targets

    if options.instance_method == "distance" and config_target_kind(run_cfg) != "distance":
        from dl_suite.errors import ConfigError

        raise ConfigError([
            "segmentation.instance_method = 'distance' splits objects with the distance levels "
            "of a model trained on them, but this run was trained on target_type "
            f"'{config_target_kind(run_cfg)}'. To fix, set segmentation.instance_method to "
            "'watershed' (or 'contour' for a contour run), or train with "
            "generator.target_type = 'distance' and model.num_classes = 5."
        ])
    if not uses_instance_targets(run_cfg):
        return options
    if options.background_channel is None and options.foreground_channel == -1:
        options = replace(options, background_channel=0)
    if options.contour_channel is None and uses_contour_targets(run_cfg):
        options = replace(options, contour_channel=2)
    return options


def _run_config(run_dir, cfg):
    """The run's config.json, else `cfg` (no run, or a folder without one)."""
    from dl_suite.errors import UserError
    from dl_suite.workflows.predict import load_run_config

    if run_dir is None:
        return cfg
    try:
        return load_run_config(run_dir)
    except UserError:
        return cfg


def run_postprocess(cfg, run_dir, *, threshold=None, run_cfg=None):
    """The post-processing `infer` applies for this config and run.

    Args:
        cfg: the resolved config (sections segmentation, infer, eval).
        run_dir: the run folder (its threshold.json is read), or None.
        threshold: an explicit threshold that replaces every other rule (`eval.threshold`).
        run_cfg: the run's training config (its target type decides the channel roles,
            `output_channels`); default: the run's config.json, else `cfg`.

    Returns:
        RunPostprocess.
    """
    seg = dict(cfg["segmentation"])
    infer_threshold = cfg["infer"]["threshold"]
    options = PostprocessOptions.from_config(seg, threshold=infer_threshold)
    options = output_channels(options, run_cfg if run_cfg is not None else _run_config(run_dir, cfg))
    config_min = int(seg.get("min_size") or cfg["eval"].get("min_object_size") or 0)
    min_source = "segmentation.min_size" if seg.get("min_size") else (
        "eval.min_object_size" if config_min else "default (0)")
    stored = stored_tuning(run_dir)
    run_threshold = None
    if threshold is not None:
        options = replace(options, threshold_method="fixed", threshold=float(threshold))
        source = {"threshold": "eval.threshold"}
    elif options.threshold_method == "run" and stored is not None:
        run_threshold = float(stored["threshold"])
        source = {"threshold": "run (threshold.json)"}
    elif options.threshold_method == "run":
        source = {"threshold": "infer.threshold" if infer_threshold is not None else "default (0.5)"}
    else:
        source = {"threshold": f"threshold_method '{options.threshold_method}'"}
    if options.threshold_method == "run" and stored is not None and stored.get("min_size") is not None:
        options = replace(options, min_size=int(stored["min_size"]))
        source["min_size"] = "run (threshold.json)"
        if config_min and config_min != options.min_size:
            logger.warning(
                "%s = %d is not used: the run's threshold.json holds a minimum object size "
                "tuned on the validation images (%d px, from eval.min_size_grid). To keep "
                "yours, set eval.min_size_grid = [%d] and re-run the evaluation, or "
                "segmentation.threshold_method = \"fixed\" (which also leaves the tuned "
                "threshold unused).",
                min_source, config_min, options.min_size, config_min)
    else:
        options = replace(options, min_size=config_min)
        source["min_size"] = min_source
    options, source = _stored_split(options, stored if threshold is None else None, source)
    if options.threshold_method == "run" and threshold is None:
        _warn_if_tuned_otherwise(options, stored)
    return RunPostprocess(options, run_threshold, source)


def _stored_split(options, stored, source):
    """The split value tuned by `eval.split_grid` (threshold.json `instance_method`,
    `split_parameter`, `split_value`) when it was tuned for the current instance method and
    threshold_method is 'run'; else the [segmentation] value (a seeded watershed's seed
    probability means something else to the distance-level split)."""
    name = SPLIT_PARAMETERS.get(options.instance_method)
    if name is None:
        return options, source
    stored = stored or {}
    tuned_for = stored.get("instance_method")
    if (options.threshold_method == "run" and tuned_for == options.instance_method
            and stored.get("split_parameter") == name and stored.get("split_value") is not None):
        options = with_split_value(options, stored["split_value"])
        return options, {**source, name: "run (threshold.json)"}
    # a threshold.json that records `tuned_with` gets one warning naming the method change
    # (`_warn_if_tuned_otherwise`); with threshold_method other than 'run' it is not used
    if (stored.get("split_value") is not None and tuned_for != options.instance_method
            and options.threshold_method == "run"
            and not isinstance(stored.get("tuned_with"), dict)):
        logger.warning("The run's threshold.json tuned %s for instance_method '%s', not '%s': "
                       "segmentation.%s is used.", stored.get("split_parameter"), tuned_for,
                       options.instance_method, name)
    return options, {**source, name: f"segmentation.{name}"}


def segment_frames(segment, probs, names, temporal=None):
    """Per-frame `segment` results, with infer's temporal rule for videos.

    With temporal options active (`[segmentation] time_sigma`, `min_duration`), the frames of
    each video (names `<video>#<t>`) are smoothed along T, segmented, and objects lasting fewer
    than `min_duration` frames removed: what infer's video path writes
    (`inference.video_batch`), so evaluation scores those masks and labels.

    Args:
        segment: a `RunPostprocess`.
        probs: list of (H, W[, K]) probability maps.
        names: their names (frames of a video: `<video>#<t>`).
        temporal: `inference.temporal.TemporalOptions` or None.

    Returns:
        list of (threshold, mask bool (H, W), labels or None), one per frame.
    """
    from dl_suite.evaluation.video import group_frames
    from dl_suite.inference.temporal import iter_smoothed, remove_short_lived

    if temporal is None or not temporal.active:
        return [segment(p) for p in probs]
    out = [None] * len(probs)
    channel = segment.options.smoothing_channel
    for positions in group_frames(names).values():
        stack = np.stack([np.asarray(probs[i], np.float32) for i in positions])
        stack = stack[..., None] if stack.ndim == 3 else stack
        results = []
        for t, fg in iter_smoothed(stack[..., channel], temporal.time_sigma):
            frame = stack[t].copy()
            frame[..., channel] = fg
            results.append(segment(frame))
        masks = np.stack([r[1] for r in results]).astype(np.uint8)
        has_labels = all(r[2] is not None for r in results)
        labels = np.stack([r[2] for r in results]) if has_labels else None
        remove_short_lived(masks, temporal.min_duration, labels=labels)
        for t, position in enumerate(positions):
            out[position] = (results[t][0], masks[t] > 0,
                             labels[t] if labels is not None else results[t][2])
    return out
