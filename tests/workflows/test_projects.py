"""Each project folder's config trains, evaluates and infers (1 epoch, tiny) on ../shared/data;
every project folder has its scripts, and the second architecture's configs keep the U-Net recipe."""

import os
import subprocess

import pytest

from dl_suite.cli.main import main
from dl_suite.config import load_config
from tests.conftest import REPO, SHARED

PROJECTS = {
    "ISBI2012": ("isbi2012/image", "isbi2012/label", "00.png"),
    "DeepCell": ("deepcell/images", "deepcell/masks", "10017.jpg"),
}
TINY = ["model.base_filters=4", "model.num_layers=3", "model.image_height=64", "model.image_width=64",
        "train.epochs=1", "train.steps_per_epoch=2", "train.validation_steps=1", "train.batch_size=2",
        "train.num_infer_images=1", "tiledinfer.tta=none", "eval.min_size_grid=[0]",
        "eval.threshold_grid=[0.3, 0.5, 0.7]"]


def _sets(project, tmp_path):
    """Overrides pointing train, validation and evaluation at 3 shared pairs (symlinked)."""
    images, masks, _ = PROJECTS[project]
    data = SHARED / "data"
    folders = {}
    for kind, source in (("images", images), ("masks", masks)):
        folders[kind] = tmp_path / "data" / kind
        folders[kind].mkdir(parents=True)
        for path in sorted((data / source).iterdir())[:3]:
            (folders[kind] / path.name).symlink_to(path)
    return TINY + [
        f"train.model_dir={tmp_path / 'models'}",
        f"train.image_datapath={folders['images']}", f"train.mask_datapath={folders['masks']}",
        f"train.val_image_datapath={folders['images']}", f"train.val_mask_datapath={folders['masks']}",
        f"eval.image_datapath={folders['images']}", f"eval.mask_datapath={folders['masks']}",
    ]


# DeepCell's train + evaluate also run in test_project_learning.py (same config); its plumbing
# run here is slow-marked to keep the suite under 15 minutes on 2 cores.
@pytest.mark.parametrize("project", ["ISBI2012", pytest.param("DeepCell", marks=pytest.mark.slow)])
def test_project_train_evaluate_infer(project, tmp_path, shared_dir):
    config = REPO / "projects" / "UNet" / project / "train_eval_infer.config"
    sets = sum((["--set", s] for s in _sets(project, tmp_path)), [])
    assert main(["train", str(config), *sets]) == 0
    run_dir = tmp_path / "models" / "run-001"
    assert (run_dir / "model.keras").is_file()
    assert main(["evaluate", str(config), *sets]) == 0
    assert (run_dir / "evaluation" / "eval" / "summary.json").is_file()
    image = SHARED / "data" / PROJECTS[project][0] / PROJECTS[project][2]
    out = tmp_path / "out"
    assert main(["infer", str(config), *sets, "--input", str(image), "--output", str(out)]) == 0
    assert len(list(out.iterdir())) >= 3


def test_shell_script_passes_arguments(tmp_path, shared_dir):
    if os.name == "nt":
        pytest.skip("POSIX shell script")
    script = REPO / "projects" / "UNet" / "ISBI2012" / "1.train.sh"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run(
        ["sh", str(script), "--set", "train.epochs=0"], capture_output=True, text=True, env=env, timeout=120
    )
    # A bad value must come back as one readable message and exit code 2, not a traceback.
    assert proc.returncode == 2, proc.stderr
    assert "train.epochs" in proc.stderr and "Traceback" not in proc.stderr


def test_every_project_folder_has_its_config_and_six_scripts():
    folders = sorted(p.parent for p in (REPO / "projects").glob("*/*/train_eval_infer.config"))
    assert {f.relative_to(REPO / "projects").as_posix() for f in folders} >= {
        "UNet/ISBI2012", "UNet/DeepCell", "AttentionUNet/ISBI2012", "AttentionUNet/DeepCell"}
    for folder in folders:
        for step in ("1.train", "2.evaluate", "3.infer"):
            assert (folder / f"{step}.bat").is_file(), folder
            assert os.access(folder / f"{step}.sh", os.X_OK), folder


@pytest.mark.parametrize("project", list(PROJECTS))
def test_attention_unet_project_is_the_unet_recipe_with_another_model(project):
    """The README compares the two architectures: nothing but the model may differ (and
    `dilation`, which the Attention U-Net does not take)."""
    paths_from = REPO / "projects" / "UNet" / project      # both folders' relative paths alike
    unet, attention = (load_config(REPO / "projects" / family / project / "train_eval_infer.config",
                                   base_dir=paths_from).to_dict()
                       for family in ("UNet", "AttentionUNet"))
    assert attention["model"].pop("name") == "attention_unet"
    assert unet["model"].pop("name") == "unet"
    unet["model"].pop("dilation"), attention["model"].pop("dilation")
    assert attention == unet
