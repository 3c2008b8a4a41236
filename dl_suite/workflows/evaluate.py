"""evaluate(cfg): score a run's model on held-out images -> evaluation.csv, summary.json, report.

What is scored is exactly what `dl-suite infer` writes for the same run and config: the masks and
instance labels come from `postprocessing.run_postprocess` (the one rule both use). The
threshold and minimum object size are tuned on validation images only, never on scored ones.
"""

import logging
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from dl_suite.workflows import runs
from dl_suite.workflows.data import load_samples, require_split, split_pairs, split_validation
from dl_suite.inference.postprocess import with_split_value
from dl_suite.inference.temporal import TemporalOptions
from dl_suite.workflows.postprocessing import (
    run_postprocess, segment_frames, stored_tuning, tuning_settings,
)
from dl_suite.workflows.predict import ImagePredictor, load_model, load_run_config

logger = logging.getLogger(__name__)


def evaluation_dir(cfg, run_dir, split):
    """`train.eval_dir/<run>/<split>` if eval_dir is set, else `<run>/evaluation/<split>`."""
    base = cfg["train"]["eval_dir"]
    return Path(base) / Path(run_dir).name / split if base else Path(run_dir) / "evaluation" / split


class RunPredictor:
    """A run's model, preprocessing and tiling, ready to predict preprocessed samples."""

    def __init__(self, cfg, run_dir, model_path=None):
        from dl_suite.workflows.inference_setup import prepare_inference

        self.run_dir = Path(run_dir)
        self.run_cfg = load_run_config(run_dir)
        self.model_path = Path(model_path or runs.model_file(run_dir))
        model = load_model(self.model_path, run_dir=run_dir)
        # the model and tiling `infer` uses (free size, measured halo), so both predict alike
        model, options = prepare_inference(cfg, self.run_cfg, run_dir, model)
        self.predict = ImagePredictor(model, options)
        self.video = _video_spec(cfg, self.run_cfg, model)

    def samples(self, pairs, ignore_dir=None, ignore_key=None):
        """Reads pairs with the run's preprocessing: (names, images, masks, raw masks, paths,
        ignores), raw masks as read (instance ids kept), paths = each sample's image file
        (resolved), ignores = each sample's ignore mask from `ignore_dir` ((H, W) bool, or None
        where nothing is ignored; `ignore_key` names the folder in messages)."""
        from dl_suite.data.ignore import split_ignored
        from dl_suite.io.pairs import find_ignore_masks

        files = find_ignore_masks(ignore_dir, [m for _, m in pairs], ignore_key) if ignore_dir else {}
        names, images, masks, raws, paths, ignores = [], [], [], [], [], []
        for pair in pairs:
            part = load_samples([pair], self.run_cfg, raw_masks=raws, ignore_key=ignore_key,
                                ignore_files=files)
            names += part[0]
            images += part[1]
            for mask in part[2]:
                labels, ignore = split_ignored(mask)
                masks.append(labels)
                ignores.append(ignore)
            paths += [str(Path(pair[0]).resolve())] * len(part[0])
        if ignore_dir:
            pixels = sum(int(i.sum()) for i in ignores if i is not None)
            logger.info("%s: %d of %d images have an ignore mask; %d px (%.2f %%) are not scored.",
                        ignore_key, len(files), len(pairs), pixels,
                        100.0 * pixels / max(sum(m.size for m in masks), 1))
        return names, images, masks, raws, paths, ignores

    def probabilities(self, images, desc="predicting", names=None):
        if self.video is not None:  # ConvLSTM: frames `<video>#<t>` predicted window by window
            from dl_suite.evaluation.video import predict_videos
            from dl_suite.inference.predictors import keras_predictor

            o = self.predict.options
            return predict_videos(names, images, keras_predictor(self.predict.model), self.video,
                                  tile_size=o.tile_size, halo=o.halo, overlap=o.overlap,
                                  window=o.window, tta=o.tta, input_multiple=o.input_multiple,
                                  batch_size=o.batch_size)
        return [self.predict(image) for image in tqdm(images, desc=desc, unit="image", leave=False)]


def _video_spec(cfg, run_cfg, model):
    from dl_suite.inference.video import is_video_model, video_spec

    if not is_video_model(model):
        return None
    return video_spec(model, run_cfg["generator"]["time_padding"], cfg["infer"]["window_placement"])


def _video_names(cfg, predictor, samples, split):
    """Samples of a video run with flat 2-D frames renamed `<video>#<t>` by the videos CSV."""
    if predictor.video is None or not samples[0]:
        return samples
    from dl_suite.workflows.data import _SPLIT_KEYS
    from dl_suite.workflows.video_data import frame_video_names

    section, _, _, data_key = _SPLIT_KEYS[split]
    names = frame_video_names(cfg, samples[0], samples[4], cfg[section].get(data_key))
    return (names,) + tuple(samples[1:])


def _drop(samples, exclude, what):
    keep = [i for i, path in enumerate(samples[4]) if path not in exclude]
    if len(keep) < len(samples[0]):
        logger.warning("%d %s image(s) are also scored; they are left out of tuning.",
                       len(samples[0]) - len(keep), what)
    return tuple([part[i] for i in keep] for part in samples)


_NO_SAMPLES = ((), (), (), (), (), ())


def validation_samples(cfg, predictor, exclude=()):
    """The run's validation images, none of whose files is in `exclude`.

    The configured validation folder, else the same seeded split of the training images that
    training used (none when training split off no validation images); with the ignore masks
    training used for them (`train.val_ignore_datapath`, or `train.ignore_datapath` for a
    split of the training images).

    Returns:
        ((names, images, masks, raw masks, paths, ignores), source) with source a short
        description.
    """
    exclude = set(exclude)
    pairs = split_pairs(cfg, "val")
    if pairs is not None:
        samples = predictor.samples(pairs, cfg["train"]["val_ignore_datapath"],
                                    "train.val_ignore_datapath")
        return _drop(samples, exclude, "validation"), "validation folder"
    train = predictor.run_cfg["train"]
    train_pairs = split_pairs(cfg, "train")
    if train_pairs is None or not train.get("dataset_splitter", True):
        return _NO_SAMPLES, "none"
    samples = predictor.samples(train_pairs, cfg["train"]["ignore_datapath"], "train.ignore_datapath")
    _, val = split_validation(samples, train["validation_split"], train["seed"])
    if val is None:
        return _NO_SAMPLES, "none"
    source = f"validation split of the training images (seed {train['seed']})"
    return _drop(val, exclude, "validation"), source


def optimise_run_threshold(cfg, predictor, exclude=()):
    """Picks the threshold and minimum object size that maximise eval.threshold_metric on the
    validation images (never on `exclude`), stores them in the run (threshold.json) for
    evaluation and inference, and returns a dict describing the tuning.

    `eval.model_choice` names the checkpoint ("best" validation loss, "last" epoch; "auto":
    "last" for a cosine-schedule run, else "best"), or with
    "validation" both are tuned and the one with the higher validation score at its chosen
    threshold is kept (the last on a tie); threshold.json names it (`model`), and
    `runs.model_file` gives it to evaluate, infer and export alike."""
    from dl_suite.evaluation import optimise_threshold, save_threshold, true_objects

    section = cfg["eval"]
    samples, source = validation_samples(cfg, predictor, exclude)
    names, images, trues, raws, paths, ignores = _video_names(cfg, predictor, samples, "val")
    if not names:
        logger.warning("No validation images: the threshold and minimum object size are NOT "
                       "optimised; the run's stored threshold.json is used if it has one, "
                       "else the defaults (see summary.json `sources`).")
        return {"status": "no validation images: not optimised (stored values, else defaults)",
                "validation_images": 0}
    segment = run_postprocess(cfg, None, run_cfg=predictor.run_cfg)
    split_name, split_values = _split_grid(cfg)
    true_labels = [true_objects(r, section["connectivity"]) for r in raws]
    candidates = runs.checkpoint_candidates(predictor.run_dir, section["model_choice"])
    results = {}
    for name in candidates or [predictor.model_path.name]:
        model = predictor if name == predictor.model_path.name else RunPredictor(
            cfg, predictor.run_dir, model_path=predictor.run_dir / name)
        probs = model.probabilities(images, desc=f"validation ({name})", names=names)
        results[name] = optimise_threshold(
            probs, trues, section["threshold_metric"], section["threshold_grid"],
            section["min_size_grid"], segment=lambda p, t, m, s=None: segment.at(t, m, s)(p)[1:],
            true_labels=true_labels, connectivity=section["connectivity"], names=names,
            tolerance=section["threshold_tolerance"], split_values=split_values, ignores=ignores)
    order = list(results)
    chosen = max(order, key=lambda n: (results[n]["score"], order.index(n)))
    result = dict(results[chosen], model=chosen,
                  model_scores={n: r["score"] for n, r in results.items()})
    tuned_options = segment.options
    if split_name:  # the split value tuned with it is the one infer will use
        tuned_options = with_split_value(tuned_options, result["split_value"])
    result.update(image_paths=sorted(set(paths)), source=source,
                  tuned_with=tuning_settings(tuned_options))
    if split_name:
        result.update(split_parameter=split_name, instance_method=segment.options.instance_method)
        logger.info("Optimised %s: %g (eval.split_grid %s)", split_name, result["split_value"],
                    list(split_values))
    save_threshold(predictor.run_dir, result)
    if len(results) > 1:
        logger.info("Model chosen on the validation images: %s (%s)", chosen, ", ".join(
            f"{n} {section['threshold_metric']} {r['score']:.4f}" for n, r in results.items()))
    logger.info("Optimised threshold %.3f and min size %d on %d validation images (%s): %s = %.4f",
                result["threshold"], result["min_size"], len(names), source,
                section["threshold_metric"], result["score"])
    tuning = {"status": "optimised", "validation_images": len(names), "source": source,
              "metric": result["metric"], "score": result["score"], "model": chosen,
              "model_scores": result["model_scores"]}
    if split_name:
        tuning.update(split_parameter=split_name, split_value=result["split_value"])
    return tuning


def _split_grid(cfg):
    """(parameter name, values) of `eval.split_grid` for the instance method, or (None, ())
    when no grid is given; a grid the method cannot use is a config error (the config loader
    refuses it already; this also holds for a config built without it)."""
    from dl_suite.config.validation import split_grid_problems
    from dl_suite.errors import ConfigError
    from dl_suite.inference.postprocess import SPLIT_PARAMETERS

    problems = split_grid_problems(cfg)
    if problems:
        raise ConfigError(problems)
    values = tuple(cfg["eval"].get("split_grid") or ())
    method = cfg["segmentation"].get("instance_method")
    return (SPLIT_PARAMETERS[method], values) if values else (None, ())


def _check_tuning(run_dir, paths, tuning):
    stored = stored_tuning(run_dir)
    if stored is None:
        return tuning
    overlap = sorted(set(stored.get("image_paths") or ()) & set(paths))
    known = stored.get("image_paths") is not None
    tuning = {**tuning, "stored_threshold": stored["threshold"],
              "stored_min_size": stored.get("min_size"),
              "tuned_on_scored_images": bool(overlap) if known else "unknown (older run)"}
    if overlap:
        logger.warning("The run's threshold.json was tuned on %d of the images scored here: "
                       "these scores are optimistic.", len(overlap))
    return tuning


def _true_objects(raw, true, connectivity, foreground_class, run_cfg):
    """True objects: the mask's instance ids when it has them (for multi-class models only
    when mask.binarize made the classes from an instance mask), else connected components."""
    from dl_suite.evaluation import true_objects

    if foreground_class is None:
        return true_objects(raw, connectivity)
    if run_cfg["mask"]["binarize"]:
        raw = np.asarray(raw)
        raw = raw[..., 0] if raw.ndim == 3 else raw
        return true_objects(np.where(np.asarray(true) == foreground_class, raw, 0), connectivity)
    return true_objects(true, connectivity, foreground_class)


def _all_pixel_scores(summary):
    """The means (and pooled ISBI scores) of a summary scored without ignore masks."""
    scores = {"note": "the same masks scored on every pixel and object (no ignore masks)",
              "mean": summary["mean"]}
    if "isbi" in summary:
        scores["isbi"] = {k: summary["isbi"][k] for k in ("v_rand", "v_info", "v_rand_cc")}
    return scores


def evaluate(cfg, *, run=None, split="eval"):
    """Scores the model of a run on the images of `split` ("eval", "test" or "val").

    Images are preprocessed as the run was trained (its config.json) and segmented as
    `infer` segments them (`run_postprocess`); `eval.threshold`, if set, replaces the threshold.

    Returns:
        dict with `summary`, `rows` (per image) and `output_dir`.
    """
    from dl_suite.evaluation import (
        DEFAULT_ISBI_THRESHOLDS, class_map, evaluate_images, overlay, write_report,
    )

    section = cfg["eval"]
    run_dir = runs.resolve_run(cfg, run)
    predictor = RunPredictor(cfg, run_dir)
    num_classes = predictor.run_cfg["model"]["num_classes"]
    if split == "val":
        samples, _ = validation_samples(cfg, predictor)
    else:
        samples = predictor.samples(require_split(cfg, split), cfg[split]["ignore_datapath"],
                                    f"{split}.ignore_datapath")
    names, images, trues, raws, paths, ignores = _video_names(cfg, predictor, samples, split)
    roles = run_postprocess(cfg, None, run_cfg=predictor.run_cfg).options  # channel roles only
    # one foreground map (1 channel, or 1 - background for contour/distance targets): binary
    binary = num_classes == 1 or roles.background_channel is not None
    tuning = {"status": "not requested (eval.optimise_threshold = false)"}
    if section["optimise_threshold"] and not binary:
        tuning = {"status": "not applicable: multi-class models use argmax"}
    elif section["optimise_threshold"] and split == "val":
        logger.warning("Scoring the validation images: the threshold is not tuned on them.")
        tuning = {"status": "skipped: the scored images are the validation images"}
    elif section["optimise_threshold"]:
        tuning = optimise_run_threshold(cfg, predictor, exclude=paths)
        if tuning.get("model", predictor.model_path.name) != predictor.model_path.name:
            predictor = RunPredictor(cfg, run_dir)  # the checkpoint the tuning chose
    tuning = _check_tuning(run_dir, paths, tuning)
    segment = run_postprocess(cfg, run_dir, threshold=section["threshold"], run_cfg=predictor.run_cfg)
    if section["threshold"] is not None:
        logger.warning("eval.threshold = %s replaces the threshold for evaluation only: infer "
                       "does not use it, so these masks differ from the ones infer writes.",
                       section["threshold"])
    probs = predictor.probabilities(images, names=names)
    temporal = TemporalOptions.from_config(cfg["segmentation"])  # infer's video rule too
    segmented = segment_frames(segment, probs, names, temporal)
    masks = [s[1] for s in segmented]
    fg_class = None
    class_maps = None
    if not binary:
        fg_class = segment.options.foreground_channel % num_classes
        class_maps = [class_map(p, m, fg_class) for p, m in zip(probs, masks)]
    oracle = None
    if "isbi" in section["scores"]:
        grid = section["threshold_grid"] or DEFAULT_ISBI_THRESHOLDS
        oracle = {t: [segment.at(t, segment.options.min_size)(p)[1] for p in probs] for t in grid}
    true_labels = None
    if "instance" in section["scores"]:
        true_labels = [_true_objects(r, t, section["connectivity"], fg_class, predictor.run_cfg)
                       for r, t in zip(raws, trues)]
    score = evaluate_images
    if predictor.video is not None or any("#" in str(name) for name in names):
        from dl_suite.evaluation.video import score_frames as score  # rows per frame + per video
    scoring = dict(
        true_labels=true_labels, labels=[s[2] for s in segmented], class_maps=class_maps,
        num_classes=2 if binary else num_classes, foreground_class=fg_class, scores=section["scores"],
        iou_thresholds=section["iou_thresholds"], connectivity=section["connectivity"])
    rows, summary = score(masks, trues, names, oracle_masks=oracle, ignores=ignores, **scoring)
    if "ignore" in summary:  # the same masks scored on every pixel, for comparison
        summary["all_pixels"] = _all_pixel_scores(score(masks, trues, names, **scoring)[1])
    for row, (threshold, _, _) in zip(rows, segmented):
        row["threshold"] = float(threshold)
    thresholds = sorted({float(s[0]) for s in segmented})
    summary.update(run=str(run_dir), split=split, model=predictor.model_path.name,
                   threshold=thresholds[0] if len(thresholds) == 1 else float(np.median(thresholds)),
                   min_size=int(segment.options.min_size), sources=segment.source, tuning=tuning)
    if len(thresholds) > 1:
        summary["threshold_note"] = "one threshold per image (column `threshold`); median shown"
    count = section["num_overlays"]
    overlays = [(n, overlay(i, np.asarray(t) > 0, m))
                for n, i, t, m in list(zip(names, images, trues, masks))[:count]]
    out_dir = evaluation_dir(cfg, run_dir, split)
    extra = {}
    if section["report_format"] == "html":  # curves from the run folder
        from dl_suite.evaluation.threshold import read_threshold_file
        from dl_suite.io.tables import read_csv_rows

        extra = {"history": read_csv_rows(Path(run_dir) / runs.HISTORY_FILE),
                 "tuned": read_threshold_file(run_dir)}
    write_report(out_dir, rows, summary, overlays=overlays, fmt=section["report_format"], **extra)
    logger.info("Evaluation written to %s", out_dir)
    return {"summary": summary, "rows": rows, "output_dir": out_dir}

