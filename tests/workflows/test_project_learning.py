"""Each project config still learns: a very short run on ../shared/data beats trivial guesses.

A regression floor, not a benchmark: each project folder's config as shipped (model, loss,
weight map, augmentation, post-processing) made tiny (8 filters, 3 levels, 64 px crops),
trained for a few seconds and scored by `dl-suite evaluate` on images it did not train on.
The floor is set from the scores of the all-foreground and all-background guesses on the same
images, computed here, so a change that breaks learning (targets, loss, weight map,
augmentation, threshold) fails. Batch normalisation is off: its moving averages (momentum
0.99) need a few hundred steps, and after 40 steps the model in inference mode predicts all
foreground on ISBI.
"""

import json

import numpy as np
import pytest

from dl_suite.cli.main import main
from dl_suite.evaluation import evaluate_images
from dl_suite.io import read_mask
from tests.conftest import REPO, SHARED

# project: (images, masks, training, validation, evaluation image names, extension)
PROJECTS = {
    "ISBI2012": ("isbi2012/image", "isbi2012/label", ["00", "01", "03", "05", "06", "07"],
                 ["02"], ["04", "10"], ".png"),
    "DeepCell": ("deepcell/images", "deepcell/masks",
                 ["10024", "10109", "10182", "10216", "10234", "10275"], ["10082"],
                 ["10017", "10025"], ".jpg"),
}
TINY = ["model.base_filters=8", "model.num_layers=3", "model.image_height=64",
        "model.image_width=64", "train.epochs=4", "train.steps_per_epoch=10",
        "train.batch_size=8", "train.patience=0", "train.epoch_change_infer=False",
        "train.learning_rate_reducer=False", "model.learning_rate=0.003", "tiledinfer.tta=none", "model.batch_norm=False",
        "eval.threshold_grid=[0.2, 0.35, 0.5, 0.65, 0.8]"]


def _split(tmp_path, project):
    images, masks, train, val, test, ext = PROJECTS[project]
    data = SHARED / "data"
    dirs = {}
    for split, names in (("train", train), ("valid", val), ("test", test)):
        for kind, source in (("images", images), ("masks", masks)):
            folder = tmp_path / split / kind
            folder.mkdir(parents=True)
            for name in names:
                (folder / f"{name}{ext}").symlink_to(data / source / f"{name}{ext}")
            dirs[split, kind] = folder
    return dirs


def _guess_scores(mask_dir, scores):
    """Mean Dice (and pooled V_Rand for ISBI) of the all-foreground / all-background guesses."""
    trues = [np.asarray(read_mask(p, threshold=128)) for p in sorted(mask_dir.iterdir())]
    guesses = {}
    for name, value in (("all_foreground", True), ("all_background", False)):
        masks = [np.full(t.shape[:2], value) for t in trues]
        _, summary = evaluate_images(masks, trues, scores=scores)
        guesses[name] = summary
    return guesses


FAMILIES = sorted(p.name for p in (REPO / "projects").iterdir() if p.is_dir())


def test_every_project_folder_is_trained_here():
    """A new project folder needs its data split in PROJECTS, or this regression test skips it."""
    folders = {(p.parent.name, p.name) for p in (REPO / "projects").glob("*/*") if p.is_dir()}
    assert folders == {(family, project) for family in FAMILIES for project in PROJECTS}


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("project", sorted(PROJECTS))
def test_short_training_beats_trivial_guesses(family, project, tmp_path, shared_dir):
    dirs = _split(tmp_path, project)
    sets = TINY + [
        f"train.model_dir={tmp_path / 'models'}",
        f"train.image_datapath={dirs['train', 'images']}", f"train.mask_datapath={dirs['train', 'masks']}",
        f"train.val_image_datapath={dirs['valid', 'images']}",
        f"train.val_mask_datapath={dirs['valid', 'masks']}",
        f"eval.image_datapath={dirs['test', 'images']}", f"eval.mask_datapath={dirs['test', 'masks']}",
    ]
    sets = [part for s in sets for part in ("--set", s)]
    config = REPO / "projects" / family / project / "train_eval_infer.config"
    assert main(["train", str(config), *sets]) == 0
    assert main(["evaluate", str(config), *sets]) == 0
    # the project configs time the training step with and without XLA and keep the faster
    status = json.loads((tmp_path / "models" / "run-001" / "run.json").read_text())
    assert status["jit_compile_rule"] == "fastest", status
    seconds = status["step_seconds"]
    assert status["jit_compile"] is (seconds["xla"] < 0.95 * seconds["no_xla"]), status
    summary = json.loads((tmp_path / "models" / "run-001" / "evaluation" / "eval" /
                          "summary.json").read_text())
    guesses = _guess_scores(dirs["test", "masks"], ["pixel", "isbi"] if project == "ISBI2012"
                            else ["pixel", "instance"])
    mean = summary["mean"]
    fraction = guesses["all_foreground"]["mean"]["precision"]  # foreground share of the pixels
    best_guess_dice = max(g["mean"]["dice"] for g in guesses.values())
    if project == "ISBI2012":  # 76 % foreground: the all-foreground guess has Dice 0.86
        # membranes found: foreground predicted more precisely than its share, cells not
        # merged into one blob (V_Rand of both guesses: 0.05)
        assert mean["precision"] > fraction + 0.05, (mean, fraction)
        assert mean["dice"] > 0.6, mean
        best_guess_rand = max(g["isbi"]["v_rand"] for g in guesses.values())
        assert summary["isbi"]["v_rand"] > best_guess_rand + 0.1, (summary["isbi"], best_guess_rand)
    else:  # 8 % foreground: the all-foreground guess has Dice 0.15, precision 0.08
        assert mean["dice"] > best_guess_dice + 0.2, (mean, best_guess_dice)
        assert mean["precision"] > fraction + 0.2, (mean, fraction)
