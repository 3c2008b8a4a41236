"""evaluate(cfg): score a run's model on held-out images -> evaluation.csv, summary.json, report."""

import logging
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from dl_suite.workflows import runs
from dl_suite.workflows.data import load_samples, require_split
from dl_suite.workflows.predict import ImagePredictor, load_model, load_run_config

logger = logging.getLogger(__name__)


def run_threshold(run_dir, configured=None):
    """The probability threshold: configured, else the run's optimised one, else 0.5."""
    if configured is not None:
        return float(configured)
    stored = runs.read_status(run_dir).get("threshold")
    return float(stored) if stored is not None else 0.5


def evaluation_dir(cfg, run_dir, split):
    base = cfg["train"]["eval_dir"]
    return Path(base) / Path(run_dir).name / split if base else Path(run_dir) / "evaluation" / split


def predict_samples(cfg, run_dir, split):
    """Loads a split with the run's preprocessing and predicts it: (names, probs, masks, images)."""
    run_cfg = load_run_config(run_dir)
    pairs = require_split(cfg, split if split != "val" else "val")
    names, images, masks = load_samples(pairs, run_cfg)
    from dl_suite.workflows.infer import inference_options

    model = load_model(runs.model_file(run_dir))
    predictor = ImagePredictor(model, inference_options(cfg, run_cfg, run_dir, model))
    probs = [predictor(image) for image in tqdm(images, desc="predicting", unit="image", leave=False)]
    return run_cfg, names, probs, masks, images


def evaluate(cfg, *, run=None, split="eval"):
    """Scores the model of a run on the images of `split` ("eval", "test" or "val").

    Returns:
        dict with `summary` (per-metric means etc.), `rows` (per image) and `output_dir`.
    """
    from dl_suite.evaluation import score_images, write_report

    run_dir = runs.resolve_run(cfg, run)
    run_cfg, names, probs, masks, images = predict_samples(cfg, run_dir, split)
    threshold = run_threshold(run_dir, cfg["eval"]["threshold"])
    rows, summary = score_images(names, probs, masks, threshold=threshold, cfg=cfg, run_cfg=run_cfg)
    summary.update(run=str(run_dir), split=split, threshold=threshold)
    out_dir = evaluation_dir(cfg, run_dir, split)
    write_report(out_dir, rows, summary, images=images, probs=probs, masks=masks, names=names,
                 threshold=threshold)
    logger.info("Evaluation written to %s", out_dir)
    return {"summary": summary, "rows": rows, "output_dir": out_dir}


def mean_dice(probs, masks, threshold=0.5):
    """Mean per-image foreground Dice (used by the demo's summary line)."""
    scores = []
    for prob, mask in zip(probs, masks):
        pred = prob[..., 0] >= threshold if prob.shape[-1] == 1 else prob.argmax(-1) > 0
        true = mask > 0
        denom = pred.sum() + true.sum()
        scores.append(1.0 if denom == 0 else 2.0 * np.logical_and(pred, true).sum() / denom)
    return float(np.mean(scores))
