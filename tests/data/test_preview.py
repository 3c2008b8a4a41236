import argparse

import numpy as np

from dl_suite.cli import augment_preview_cmd
from dl_suite.data.dataset import SegmentationDataset
from dl_suite.data.preview import overlay_contours, preview_figure
from dl_suite.io import write_image
from tests.data.conftest import disk_labels


def test_overlay_and_figure(pairs):
    images, masks = pairs
    rgb = overlay_contours(images[0], masks[0])
    assert rgb.shape == (64, 64, 3)
    assert np.isclose(rgb, [1.0, 0.2, 0.1]).all(axis=-1).sum() > 20
    figure = preview_figure(SegmentationDataset(images, masks, batch_size=2), num=3)
    assert len(figure.axes) == 6


def test_augment_preview_command(tmp_path):
    for k in range(2):
        labels = disk_labels(centres=((20 + 5 * k, 20), (44, 40)))
        write_image(tmp_path / "images" / f"{k}.png", (labels > 0).astype(np.uint8) * 200 + 20)
        write_image(tmp_path / "masks" / f"{k}.png", (labels > 0).astype(np.uint8) * 255)
    config = tmp_path / "train.config"
    config.write_text(
        "[model]\nimage_width = 48\nimage_height = 48\nimage_channels = 1\n"
        "[train]\nimage_datapath = \"./images\"\nmask_datapath = \"./masks\"\n"
        "[augmentor]\nvflip = True\ndeformation = True\nnoise = True\n"
        "[deformation]\nalpha = 40\nsigmoids = [4.0]\n"
    )
    parser = argparse.ArgumentParser()
    augment_preview_cmd.add_parser(parser.add_subparsers())
    args = parser.parse_args(["augment-preview", str(config), "--num", "3",
                              "--set", "augmentor.blur=True"])
    assert args.run(args) == 0
    assert (tmp_path / "augment_preview.png").stat().st_size > 1000
