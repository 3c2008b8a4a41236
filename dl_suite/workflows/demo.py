"""The embedded default job: synthetic nuclei -> train a small U-Net -> evaluate -> infer."""

import logging
import time
from pathlib import Path

from dl_suite.config import load_config
from dl_suite.data.synthetic import synthetic_nuclei
from dl_suite.io import write_image, write_text

logger = logging.getLogger(__name__)

DEMO_CONFIG = """\
; dl-suite demo: a small U-Net on synthetic fluorescence nuclei (made by dl-suite itself).
[model]
model          = "unet"
image_height   = {size}
image_width    = {size}
image_channels = 1
num_classes    = 1
base_filters   = 8
num_layers     = 4
dropout_rate   = 0.0
learning_rate  = 0.003
loss           = "bce_dice"
metrics        = ["dice_coef", "iou"]

[train]
epochs          = {epochs}
batch_size      = 4
steps_per_epoch = {steps}
patience        = 8
reducer_patience = 3
model_dir       = "./models"
image_datapath  = "./data/train/images"
mask_datapath   = "./data/train/masks"
num_infer_images = 4

[eval]
image_datapath = "./data/test/images"
mask_datapath  = "./data/test/masks"

[infer]
images_dir = "./data/test/images"
output_dir = "./predictions"

[image]
normalization = "percentile"

[generator]
augmentation = True

[augmentor]
vflip    = True
hflip    = True
rotation = True
angles   = [90, 180, 270]
"""


def make_demo_data(root, num_train=24, num_test=6, size=128, seed=0):
    """Writes synthetic image/mask pairs (PNG images, uint16 TIFF instance labels)."""
    root = Path(root)
    for split, count, offset in (("train", num_train, 0), ("test", num_test, 10_000)):
        for i in range(count):
            image, labels = synthetic_nuclei((size, size), seed=seed + offset + i)
            write_image(root / split / "images" / f"nuclei_{i:03d}.png", image)
            write_image(root / split / "masks" / f"nuclei_{i:03d}.tif", labels)
    return root


def run_demo(output_dir, *, epochs=25, steps=12, size=128, num_train=24, num_test=6, overrides=()):
    """Runs the whole demo in `output_dir` and returns what it measured and wrote."""
    from dl_suite.workflows.evaluate import evaluate
    from dl_suite.workflows.infer import infer
    from dl_suite.workflows.train import train

    output_dir = Path(output_dir)
    started = time.perf_counter()
    if not (output_dir / "data" / "train" / "images").is_dir():
        logger.info("Making %d synthetic training and %d test images in %s", num_train, num_test, output_dir / "data")
        make_demo_data(output_dir / "data", num_train, num_test, size)
    config_path = output_dir / "demo.config"
    if not config_path.is_file():
        write_text(config_path, DEMO_CONFIG.format(size=size, epochs=epochs, steps=steps))
    cfg = load_config(config_path, overrides)
    run_dir = train(cfg)
    trained = time.perf_counter()
    result = evaluate(cfg, run=run_dir)
    predictions = output_dir / "predictions" / run_dir.name
    report = infer(cfg, run=run_dir, output_dir=predictions)
    return {
        "config": config_path,
        "run_dir": run_dir,
        "dice": result["summary"]["mean"].get("dice"),
        "iou": result["summary"]["mean"].get("iou"),
        "evaluation_dir": result["output_dir"],
        "predictions_dir": report["output_dir"],
        "train_seconds": trained - started,
        "total_seconds": time.perf_counter() - started,
    }
