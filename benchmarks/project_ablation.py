"""Ablation of a project config: short training runs of config variants, one results table.

Each variant is the project's config with `--set` overrides, trained for at most `--minutes`
(the run's own time budget, `train.max_train_minutes`, so that the cosine schedule spans it;
the run's soft-stop file ends the epoch in progress if the budget is overrun),
then scored by `dl-suite evaluate` on the config's evaluation images (the threshold and minimum
size tuned on the validation images only). A classical row (Gaussian smoothing + Otsu,
`dl_suite.evaluation.gaussian_otsu`) is scored with the same scorecard.

    PYTHONPATH=$PWD python3 benchmarks/project_ablation.py projects/UNet/DeepCell \
        --minutes 5 --out /tmp/ablation/deepcell --variants classical plain shipped

Variants are the names in VARIANTS (per project folder name) or `name=key=value,key=value`.
Times are wall-clock on the machine it runs on; with other jobs on the CPU they are upper
bounds. The table is printed and written to <out>/ablation.md and ablation.json.
"""

import argparse
import json
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run from a checkout

PLAIN = {  # a plain Keras U-Net: 1-class targets, no augmentation, plain BCE, no weight map,
    # no LR schedule
    "generator.target_type": "segmentation", "model.num_classes": "1",
    "generator.augmentation": "False", "generator.weight_map": "none", "model.loss": "bce",
    "train.learning_rate_reducer": "False", "tiledinfer.tta": "none",
    "eval.min_size_grid": "[0]", "segmentation.instance_method": "connected",
    "eval.optimise_threshold": "False", "augmentor.deformation": "False",
}
COMMON_VARIANTS = {  # both projects
    "shipped": {},
    "plain": PLAIN,
    "no_weight_map": {"generator.weight_map": "none", "model.loss": "bce_dice"},
    "unet_map": {"generator.weight_map": "unet", "model.loss": "weighted_bce_dice"},
    "border_map": {"generator.weight_map": "border", "model.loss": "weighted_bce_dice"},
    "no_tta": {"tiledinfer.tta": "none"},
    "connected": {"segmentation.instance_method": "connected"},
    "threshold_0.5": {"eval.optimise_threshold": "False"},
    "tuned_for_dice": {"eval.threshold_metric": "dice"},
    "attention_unet": {"model.model": "attention_unet"},
    "mobilenet_unet": {"model.model": "mobilenet_mobileunet"},
    "cosine": {"train.lr_schedule": "cosine"},
    "bf16": {"train.mixed_precision": "mixed_bfloat16"},
    "elastic": {"augmentor.deformation": "True", "augmentor.deformation_prob": "0.5"},
    "no_elastic": {"augmentor.deformation": "False"},
    # 3-class targets (background, interior, contour); scored on the foreground 1 - background
    "contours": {"generator.target_type": "contours", "model.num_classes": "3",
                 "generator.weight_map": "none", "model.loss": "bce_dice"},
    "contours_cce": {"generator.target_type": "contours", "model.num_classes": "3",
                     "generator.weight_map": "none", "model.loss": "sparse_cce"},
}
VARIANTS = {
    "ISBI2012": {
        **COMMON_VARIANTS,
        "tuned_for_v_rand": {"eval.threshold_metric": "v_rand"},
    },
    "DeepCell": {
        **COMMON_VARIANTS,
        "seeded_watershed": {"segmentation.instance_method": "seeded_watershed"},
        "watershed_md5": {"segmentation.min_distance": "5"},
        "watershed_md15": {"segmentation.min_distance": "15"},
        "contours_split": {"generator.target_type": "contours", "model.num_classes": "3",
                           "model.loss": "bce_dice", "segmentation.instance_method": "contour"},
    },
}
METRICS = ("dice", "iou", "f1_50", "ap_50", "pq")


def parse_variant(text, project):
    if "=" not in text:
        table = VARIANTS.get(project, {})
        if text not in table and text != "classical":
            raise SystemExit(f"Unknown variant {text!r}; known: classical, {', '.join(table)}")
        return text, table.get(text, {})
    name, _, rest = text.partition("=")
    pairs = [item.split("=", 1) for item in rest.split(",") if item]
    return name, dict(pairs)


def _sets(overrides):
    out = []
    for key, value in overrides.items():
        out += ["--set", f"{key}={value}"]
    return out


def _stop_after(model_dir, seconds, done):
    """Creates the soft-stop file in the newest run folder once `seconds` have passed."""
    start = time.time()
    while not done.is_set():
        if time.time() - start > seconds:
            for run in sorted(Path(model_dir).glob("run-*")):
                (run / "STOP").write_text("time budget of the ablation\n")
            return
        done.wait(2.0)


def train_and_evaluate(project_dir, name, overrides, out, minutes, from_run=None):
    model_dir = (out / name).resolve()
    sets = _sets({**overrides, "train.model_dir": str(model_dir)})
    config = "train_eval_infer.config"
    if from_run is not None:  # evaluation-only variant of a trained run (a copy: tuning is stored)
        shutil.copytree(from_run, model_dir / "run-001", ignore=shutil.ignore_patterns(
            "evaluation", "threshold.json", "resume", "epoch_change*"))
        return _evaluate(project_dir, name, sets, out, model_dir / "run-001", None)
    # the run's own time budget too, so that time-aware levers (the cosine schedule) span it
    sets += ["--set", f"train.max_train_minutes={minutes}"]
    done = threading.Event()
    watcher = threading.Thread(target=_stop_after, args=(model_dir, minutes * 60, done))
    watcher.start()
    start = time.time()
    with open(out / f"{name}.train.log", "w") as log:
        code = subprocess.call([sys.executable, "-m", "dl_suite", "train", config, *sets],
                               cwd=project_dir, stdout=log, stderr=subprocess.STDOUT)
    train_s = time.time() - start
    done.set()
    watcher.join()
    if code:
        return {"variant": name, "error": f"train exit code {code}"}
    return _evaluate(project_dir, name, sets, out, max(model_dir.glob("run-*")), train_s)


def _evaluate(project_dir, name, sets, out, run, train_s):
    config = "train_eval_infer.config"
    history = (run / "history.csv").read_text().strip().splitlines()
    epochs = len(history) - 1
    cfg = json.loads((run / "config.json").read_text())
    steps = epochs * int(cfg["train"]["steps_per_epoch"] or 0)
    if train_s is None:  # the copied run's own training time (run.json), when it has one
        train_s = _run_seconds(run)
    start = time.time()
    with open(out / f"{name}.eval.log", "w") as log:
        code = subprocess.call([sys.executable, "-m", "dl_suite", "evaluate", config, *sets],
                               cwd=project_dir, stdout=log, stderr=subprocess.STDOUT)
    eval_s = time.time() - start
    if code:
        return {"variant": name, "error": f"evaluate exit code {code}"}
    summary = json.loads(next(run.glob("evaluation/*/summary.json")).read_text())
    row = {"variant": name, "train_min": round(train_s / 60, 1) if train_s else "", "epochs": epochs,
           "steps": steps, "eval_s": round(eval_s), "threshold": summary.get("threshold"),
           "min_size": summary.get("min_size")}
    row.update({k: summary["mean"][k] for k in METRICS if k in summary["mean"]})
    if "isbi" in summary:
        row["v_rand"] = summary["isbi"]["v_rand"]
    return row


def _run_seconds(run):
    history = run / "history.csv"
    try:
        return history.stat().st_mtime - (run / "config.json").stat().st_mtime
    except OSError:
        return None


def classical_row(project_dir, sigma=2.0, min_size=30):
    """Gaussian smoothing + Otsu on the config's evaluation images, same scorecard."""
    import os

    from dl_suite.config import load_config
    from dl_suite.evaluation import evaluate_images, gaussian_otsu
    from dl_suite.io import read_image, read_mask
    from dl_suite.workflows.data import require_split
    here = os.getcwd()
    os.chdir(project_dir)
    try:
        cfg = load_config("train_eval_infer.config")
        pairs = require_split(cfg, "eval")
        threshold = cfg["dataset"]["mask_threshold"]
        masks = [gaussian_otsu(read_image(p), sigma, min_size=min_size) for p, _ in pairs]
        trues = [np.asarray(read_mask(m, threshold=threshold)) for _, m in pairs]
        scores = cfg["eval"]["scores"]
    finally:
        os.chdir(here)
    start = time.time()
    _, summary = evaluate_images(masks, trues, scores=scores)
    row = {"variant": f"classical (Gaussian sigma {sigma} + Otsu, min size {min_size})",
           "train_min": 0, "epochs": 0, "steps": 0, "eval_s": round(time.time() - start)}
    row.update({k: summary["mean"][k] for k in METRICS if k in summary["mean"]})
    if "isbi" in summary:
        row["v_rand"] = summary["isbi"]["v_rand"]
    return row


def harsh_isbi(pred_dir, true_dir):
    """1 - adapted Rand error (skimage, true label 0 ignored) between the 4-connected
    components of predicted and true cell interiors, no thinning (`v_rand_cc` of
    `dl_suite.evaluation.isbi`); pooled over the images (pairs within each image) and per
    image. Predictions: infer's `<name>_mask.tif` files."""
    from dl_suite.evaluation.isbi import adapted_rand, components_table
    from dl_suite.io import read_image, read_mask

    tables, per_image = [], {}
    for true_path in sorted(Path(true_dir).iterdir()):
        true = np.asarray(read_mask(true_path, threshold=128)) > 0
        pred = np.squeeze(np.asarray(read_image(Path(pred_dir) / f"{true_path.stem}_mask.tif"))) > 0
        tables.append(components_table(pred, true))
        per_image[true_path.stem] = adapted_rand(tables[-1:])
    return adapted_rand(tables), per_image


def markdown(rows):
    keys = []
    for row in rows:
        keys += [k for k in row if k not in keys]
    fmt = lambda v: f"{v:.3f}" if isinstance(v, float) else str(v)
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(fmt(r.get(k, "")) for k in keys) + " |" for r in rows]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", help="project folder with train_eval_infer.config")
    parser.add_argument("--variants", nargs="+", default=["classical", "plain", "shipped"])
    parser.add_argument("--minutes", type=float, default=5.0, help="training budget per variant")
    parser.add_argument("--common", nargs="*", default=[], metavar="KEY=VALUE",
                        help="overrides for every trained variant (e.g. a smaller proxy scale)")
    parser.add_argument("--from-run", default=None,
                        help="evaluate these variants on a copy of this trained run (no training)")
    parser.add_argument("--out", default=None, help="output folder (default /tmp/ablation/<name>)")
    parser.add_argument("--harsh-isbi", nargs=2, metavar=("PRED_DIR", "TRUE_MASK_DIR"),
                        help="only print the harsher ISBI reading (see harsh_isbi) and exit")
    args = parser.parse_args(argv)
    if args.harsh_isbi:
        pooled, per_image = harsh_isbi(*args.harsh_isbi)
        print(f"1 - adapted Rand error, 4-connected interiors, no thinning: pooled {pooled:.4f}; "
              + ", ".join(f"{k} {v:.4f}" for k, v in per_image.items()))
        return
    project_dir = Path(args.project).resolve()
    out = Path(args.out or f"/tmp/ablation/{project_dir.name}").resolve()
    out.mkdir(parents=True, exist_ok=True)
    common = dict(item.split("=", 1) for item in args.common)
    rows = []
    for text in args.variants:
        name, overrides = parse_variant(text, project_dir.name)
        overrides = {**common, **overrides}
        if name == "classical":
            rows.append(classical_row(project_dir))
        else:
            rows.append(train_and_evaluate(project_dir, name, overrides, out, args.minutes,
                                           from_run=args.from_run))
        (out / "ablation.json").write_text(json.dumps(rows, indent=1))
        (out / "ablation.md").write_text(markdown(rows) + "\n")
        print(markdown(rows[-1:]).splitlines()[-1], flush=True)
    print(markdown(rows))


if __name__ == "__main__":
    main()
