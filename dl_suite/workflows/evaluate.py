"""evaluate(cfg): score a run's model on held-out images -> evaluation.csv, summary.json, report."""

import logging
from pathlib import Path

from tqdm.auto import tqdm

from dl_suite.workflows import runs
from dl_suite.workflows.data import load_samples, require_split, split_pairs, split_validation
from dl_suite.workflows.predict import ImagePredictor, load_model, load_run_config

logger = logging.getLogger(__name__)


def evaluation_dir(cfg, run_dir, split):
    """`train.eval_dir/<run>/<split>` if eval_dir is set, else `<run>/evaluation/<split>`."""
    base = cfg["train"]["eval_dir"]
    return Path(base) / Path(run_dir).name / split if base else Path(run_dir) / "evaluation" / split


class RunPredictor:
    """A run's model, preprocessing and tiling, ready to predict preprocessed samples."""

    def __init__(self, cfg, run_dir):
        from dl_suite.workflows.infer import prepare_inference

        self.run_dir = Path(run_dir)
        self.run_cfg = load_run_config(run_dir)
        model = load_model(runs.model_file(run_dir))
        # the model and tiling `infer` uses (free size, measured halo), so both predict alike
        model, options = prepare_inference(cfg, self.run_cfg, run_dir, model)
        self.predict = ImagePredictor(model, options)

    def samples(self, pairs):
        """Reads pairs with the run's preprocessing: (names, images, masks)."""
        return load_samples(pairs, self.run_cfg)

    def probabilities(self, images, desc="predicting"):
        return [self.predict(image) for image in tqdm(images, desc=desc, unit="image", leave=False)]


def validation_samples(cfg, predictor):
    """The run's validation images: the configured folder, else the same seeded split as training."""
    pairs = split_pairs(cfg, "val")
    if pairs is not None:
        return predictor.samples(pairs)
    train = predictor.run_cfg["train"]
    samples = predictor.samples(require_split(cfg, "train"))
    _, val = split_validation(samples, train["validation_split"], train["seed"])
    return val


def optimise_run_threshold(cfg, predictor):
    """Picks the threshold (and minimum object size) that maximises eval.threshold_metric on the
    validation images and stores it in the run; inference uses it from then on."""
    from dl_suite.evaluation import optimise_threshold, save_threshold

    section = cfg["eval"]
    val = validation_samples(cfg, predictor)
    if not val:
        logger.warning("No validation images: the threshold is not optimised.")
        return None
    probs = predictor.probabilities(val[1], desc="validation")
    result = optimise_threshold(probs, val[2], section["threshold_metric"], section["threshold_grid"],
                                section["min_size_grid"])
    save_threshold(predictor.run_dir, result)
    logger.info("Optimised threshold %.3f (min size %s) on %d validation images: %s = %.4f",
                result["threshold"], result.get("min_size", 0), len(val[0]),
                section["threshold_metric"], result.get("score", float("nan")))
    return result


def evaluate(cfg, *, run=None, split="eval"):
    """Scores the model of a run on the images of `split` ("eval", "test" or "val").

    Images are preprocessed as the run was trained (its config.json); the threshold is
    `eval.threshold` if set, else the run's optimised one, else 0.5.

    Returns:
        dict with `summary`, `rows` (per image) and `output_dir`.
    """
    from dl_suite.evaluation import binarize, evaluate_images, load_threshold, overlay, write_report

    section = cfg["eval"]
    run_dir = runs.resolve_run(cfg, run)
    predictor = RunPredictor(cfg, run_dir)
    if section["optimise_threshold"] and predictor.run_cfg["model"]["num_classes"] == 1:
        optimise_run_threshold(cfg, predictor)
    names, images, masks = (validation_samples(cfg, predictor) if split == "val"
                            else predictor.samples(require_split(cfg, split)))
    probs = predictor.probabilities(images)
    threshold, min_size = load_threshold(run_dir, default=0.5)
    if section["threshold"] is not None:
        threshold = section["threshold"]
    min_size = min_size or section["min_object_size"]
    extra = {"isbi_thresholds": section["threshold_grid"]} if section["threshold_grid"] else {}
    rows, summary = evaluate_images(
        probs, masks, names, threshold=threshold, min_size=min_size, scores=section["scores"],
        iou_thresholds=section["iou_thresholds"], connectivity=section["connectivity"], **extra,
    )
    summary.update(run=str(run_dir), split=split, threshold=float(threshold), min_size=int(min_size))
    count = section["num_overlays"]
    overlays = [(n, overlay(i, m > 0, binarize(p, threshold, min_size)))
                for n, i, m, p in list(zip(names, images, masks, probs))[:count]]
    out_dir = evaluation_dir(cfg, run_dir, split)
    write_report(out_dir, rows, summary, overlays=overlays, fmt=section["report_format"])
    logger.info("Evaluation written to %s", out_dir)
    return {"summary": summary, "rows": rows, "output_dir": out_dir}
