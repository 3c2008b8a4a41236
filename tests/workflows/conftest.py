import pytest

from dl_suite.workflows.demo import make_demo_data

TINY = [
    "model.base_filters=4", "model.num_layers=3", "model.image_height=32", "model.image_width=32",
    "train.epochs=1", "train.steps_per_epoch=2", "train.batch_size=2", "train.num_infer_images=2",
]

CONFIG = """\
[model]
model = "unet"
image_channels = 1
num_classes = 1
loss = "bce_dice"
metrics = ["dice_coef", "iou"]

[train]
model_dir = "./models"
image_datapath = "./data/train/images"
mask_datapath = "./data/train/masks"

[eval]
image_datapath = "./data/test/images"
mask_datapath = "./data/test/masks"

[infer]
images_dir = "./data/test/images"
output_dir = "./predictions"
"""


@pytest.fixture
def tiny_project(tmp_path):
    """A project folder with 6 synthetic training and 2 test pairs of 48 px and a config."""
    make_demo_data(tmp_path / "data", num_train=6, num_test=2, size=48)
    (tmp_path / "project.config").write_text(CONFIG)
    return tmp_path
