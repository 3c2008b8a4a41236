"""robustness(cfg): a trained run on every corruption x level and attack x epsilon -> report.

The clean images go through `load_samples` with the run's config (as `evaluate` does); the
corrupted ones are the same raw frames corrupted (before normalisation) and then preprocessed
by the same `preprocess_image`; predictions use the run's `RunPredictor` (tiling, TTA as
inference). Attacks perturb the normalised model input with budgets converted from grey levels
through the run's normalisation, then predict the perturbed images the same way.
"""

import logging
from pathlib import Path

import numpy as np

from dl_suite.data.preprocess import (
    pad_to_multiple,
    pad_to_size,
    preprocess_image,
    to_model_channels,
)
from dl_suite.io import read_image_data, read_mask_data, write_image
from dl_suite.workflows import runs
from dl_suite.workflows.corrupt import corruption_seed, family_level
from dl_suite.workflows.data import load_samples, require_split

logger = logging.getLogger(__name__)


def _raw_frames(pairs, run_cfg):
    """[(raw (T, Y, X, C) in model channels, dtype range or None, path, mask (T, Y, X))] per pair,
    read as `load_samples` reads them (before normalisation)."""
    dataset = run_cfg["dataset"]
    out = []
    for image_path, mask_path in pairs:
        raw = np.asarray(read_image_data(image_path, axes=dataset.get("axes")).array)
        clip = (np.iinfo(raw.dtype).min, np.iinfo(raw.dtype).max) if np.issubdtype(raw.dtype, np.integer) else None
        mask = read_mask_data(mask_path, threshold=dataset["mask_threshold"], axes=dataset.get("axes"))
        out.append((to_model_channels(raw, run_cfg["model"]["image_channels"], image_path), clip, image_path, mask))
    return out


class Scorer:
    """Mean IoU and Dice of probability maps post-processed as `infer` writes them and
    `evaluate` scores them (`workflows.postprocessing.run_postprocess`: the run's threshold and
    minimum object size, or `eval.threshold`)."""

    def __init__(self, cfg, run_dir, masks):
        from dl_suite.workflows.postprocessing import run_postprocess

        self.masks = masks
        self.segment = run_postprocess(cfg, run_dir, threshold=cfg["eval"]["threshold"])

    def __call__(self, probs, indices=None):
        from dl_suite.evaluation import evaluate_images

        masks = self.masks if indices is None else [self.masks[i] for i in indices]
        predicted = [self.segment(p)[1] for p in probs]
        _, summary = evaluate_images(predicted, masks, scores=("pixel",))
        return float(summary["mean"]["iou"]), float(summary["mean"]["dice"])


def _target(mask, num_classes):
    if num_classes == 1:
        return (np.asarray(mask) > 0).astype(np.float32)[..., None]
    return np.eye(num_classes, dtype=np.float32)[np.asarray(mask, np.int64)]


def _attack_whole(grad, predictor, image, target, budget, step, name, section, seed):
    """Attacks one normalised image: whole (padded) if the model takes it, else model-size tiles."""
    from dl_suite.robustness.attacks import attack
    from dl_suite.workflows.predict import fixed_input_size

    height, width = image.shape[:2]
    multiple = predictor.options.input_multiple
    size = fixed_input_size(predictor.model)
    if size is None or (height <= size[0] and width <= size[1]):
        x, _ = pad_to_multiple(image, multiple)
        y, _ = pad_to_multiple(target, multiple)
        if size is not None:
            x, y = pad_to_size(x, size), pad_to_size(y, size)
        tiles, places = [x], [(0, 0)]
        tile = x.shape[:2]
    else:
        tile = size
        tiles, places = [], []
        for y0 in range(0, height, tile[0]):
            for x0 in range(0, width, tile[1]):
                tiles.append(pad_to_size(image[y0:y0 + tile[0], x0:x0 + tile[1]], tile))
                places.append((y0, x0))
        y = [pad_to_size(target[y0:y0 + tile[0], x0:x0 + tile[1]], tile) for y0, x0 in places]
    targets = np.stack(y if isinstance(y, list) else [y])
    adv = attack(name, grad, np.stack(tiles), targets, budget, step=step, iterations=section["iterations"],
                 random_start=section["random_start"], seed=seed)
    out = np.array(image, np.float32, copy=True)
    for tile_adv, (y0, x0) in zip(adv, places):
        h, w = min(tile[0], height - y0), min(tile[1], width - x0)
        out[y0:y0 + h, x0:x0 + w] = tile_adv[:h, :w]
    return out


def _example(image):
    grey = image[..., 0] if image.ndim == 3 else image
    lo, hi = np.percentile(grey, [0.5, 99.5])
    return (np.clip((grey - lo) / max(hi - lo, 1e-6), 0, 1) * 255).astype(np.uint8)


def assess_run(cfg, run_dir, pairs, out_dir, label):
    """Rows (run, family, severity, level, unit, iou, dice) of one run; examples under out_dir."""
    from dl_suite.robustness import CORRUPTIONS, corrupt
    from dl_suite.robustness.budget import check_normalisation
    from dl_suite.workflows.evaluate import RunPredictor

    section = cfg["robustness"]
    predictor = RunPredictor(cfg, run_dir)
    run_cfg = predictor.run_cfg
    if section["attacks"]:
        check_normalisation(run_cfg, run_dir)
    names, images, masks = load_samples(pairs, run_cfg)
    score = Scorer(cfg, run_dir, masks)
    iou, dice = score(predictor.probabilities(images, desc="clean"))
    rows = [{"run": label, "family": "clean", "severity": 0, "level": "", "unit": "", "iou": iou, "dice": dice}]
    raws = _raw_frames(pairs, run_cfg)
    examples = out_dir / "examples" / label.strip("/").replace("/", "_")
    for family in section["families"]:
        for severity in section["severities"]:
            level = family_level(family, severity, section["snr_levels"])
            degraded = []
            for index, (raw, clip, path, mask) in enumerate(raws):
                out, _ = corrupt(raw, family, severity, level=level, mask=mask, input_snr=section["input_snr"],
                                 seed=corruption_seed(section["seed"], index, family, severity),
                                 time_axis=True, clip=clip)
                degraded += [preprocess_image(frame, run_cfg, path) for frame in out]
            iou, dice = score(predictor.probabilities(degraded, desc=f"{family} s{severity}"))
            rows.append({"run": label, "family": family, "severity": severity, "level": level,
                             "unit": CORRUPTIONS.get(family).unit, "iou": iou, "dice": dice})
            for i in range(min(section["num_examples"], len(degraded))):
                write_image(examples / family / f"s{severity}_{names[i]}.png", _example(degraded[i]))
    if section["attacks"]:
        rows += _attack_rows(section, predictor, raws, images, masks, names, score, label, examples)
    logger.info("Robustness of %s: %d conditions", label, len(rows) - 1)
    return rows


def _attack_rows(section, predictor, raws, images, masks, names, score, label, examples):
    from dl_suite.robustness.attacks import gradient_function
    from dl_suite.robustness.budget import check_epsilons, input_budget

    check_epsilons(section["epsilons"])
    frames = [frame for raw, *_ in raws for frame in raw]
    chosen = list(range(min(section["attack_images"], len(images))))
    num_classes = predictor.run_cfg["model"]["num_classes"]
    clean_iou, _ = score(predictor.probabilities([images[i] for i in chosen], desc="attack clean"), chosen)
    rows = []
    grad = gradient_function(predictor.predict.model)
    for name in section["attacks"]:
        for k, eps in enumerate(section["epsilons"], start=1):
            adversarial = []
            for i in chosen:
                budget = input_budget(eps, frames[i], images[i])
                step = input_budget(section["step"], frames[i], images[i])
                adversarial.append(_attack_whole(grad, predictor.predict, images[i], _target(masks[i], num_classes),
                                                 budget, step, name, section, section["seed"] + i))
            iou, dice = score(predictor.probabilities(adversarial, desc=f"{name} {eps}"), chosen)
            rows.append({"run": label, "family": name, "severity": k, "level": eps, "unit": "epsilon (/255)", "iou": iou,
                             "dice": dice, "clean_iou_subset": clean_iou})
            for i in range(min(section["num_examples"], len(adversarial))):
                write_image(examples / name / f"eps{eps:g}_{names[chosen[i]]}.png", _example(adversarial[i]))
    return rows


def new_output_dir(base):
    """`base`, or `base-2`, `base-3`, ... if taken (an earlier report is never overwritten)."""
    base = Path(base)
    candidate, number = base, 1
    while candidate.exists():
        number += 1
        candidate = base.with_name(f"{base.name}-{number}")
    return candidate


def robustness(cfg, *, run_dirs=None):
    """Runs the assay on one or several runs and writes the report.

    Returns:
        dict with `rows`, `mean_robustness` and `output_dir`.

    Raises:
        UserError: unknown run, bad epsilons, an SNR an image cannot reach, a run whose
            normalisation cannot take attack budgets.
    """
    from dl_suite.robustness.budget import check_epsilons
    from dl_suite.robustness.report import (
        add_ratios,
        robustness_ratio,
        write_robustness_report,
    )

    section = cfg["robustness"]
    if section["attacks"]:
        check_epsilons(section["epsilons"])
    run_list = [runs.resolve_run(cfg, r) for r in (run_dirs or [None])]
    pairs = require_split(cfg, section["split"])
    if section["output_dir"]:
        base = Path(section["output_dir"])
    else:
        base = run_list[0] / "robustness" if len(run_list) == 1 else Path(cfg["train"]["model_dir"]) / "robustness"
    out_dir = new_output_dir(base)
    rows = []
    names = [Path(r).name for r in run_list]
    for run_dir, name in zip(run_list, names):
        label = name if names.count(name) == 1 else str(run_dir)  # the same name in two folders
        rows += assess_run(cfg, run_dir, pairs, out_dir, label)
    add_ratios(rows)
    for row in rows:  # attacks run on a subset of images: their ratio is against that subset
        if "clean_iou_subset" in row:
            row["ratio"] = robustness_ratio(row["iou"], row.pop("clean_iou_subset"))
    notes = [f"Runs: {', '.join(str(r) for r in run_list)}; images: {len(pairs)} files of [{section['split']}].",
             "Robustness ratio = IoU(degraded) / IoU(clean) of the same run (attacks: on the attacked images).",
             ("Epsilons are grey levels of 255 (fraction of the dynamic range), converted through the run's "
             f"normalisation; step {section['step']}/255, {section['iterations']} iterations, "
             f"random start {section['random_start']}.")]
    reach = section["step"] * section["iterations"]
    short = [e for e in section["epsilons"] if e > reach]
    if section["attacks"] and short:
        note = (f"Iterative attacks move at most step x iterations = {reach:g} grey levels from their start: "
                f"epsilons {short} are not fully explored (raise [robustness] iterations or step).")
        logger.warning(note)
        notes.append(note)
    means = write_robustness_report(out_dir, rows, notes, attack_names=section["attacks"])
    logger.info("Robustness report written to %s", out_dir)
    return {"rows": rows, "mean_robustness": means, "output_dir": out_dir}
