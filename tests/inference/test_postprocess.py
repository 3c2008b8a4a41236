from dataclasses import replace

import numpy as np
import pytest

from dl_suite.inference.postprocess import (
    INSTANCE_METHODS,
    THRESHOLD_METHODS,
    PostprocessOptions,
    clean_mask,
    foreground_map,
    label_instances,
    postprocess,
    resolve_threshold,
    with_split_value,
)


def disk(shape, centre, radius):
    y, x = np.ogrid[: shape[0], : shape[1]]
    return (y - centre[0]) ** 2 + (x - centre[1]) ** 2 <= radius**2


def test_threshold_methods():
    prob = np.zeros((32, 32), np.float32)
    prob[8:20, 8:20] = 0.9
    assert resolve_threshold(prob, "fixed", value=0.3) == 0.3
    assert resolve_threshold(prob, "fixed") == 0.5
    assert 0.0 <= resolve_threshold(prob, "otsu") < 0.9
    assert resolve_threshold(prob, "run", run_threshold=0.42) == 0.42
    assert resolve_threshold(prob, "run", value=0.6) == 0.6
    assert THRESHOLD_METHODS.names() == ["fixed", "otsu", "run"]
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        resolve_threshold(prob, "fixed", value=150)


def test_clean_mask_fills_removes_and_clears_border():
    mask = disk((64, 64), (32, 32), 10) & ~disk((64, 64), (32, 32), 3)  # ring with a hole
    mask[0:4, 0:4] = True  # border object
    mask[50, 50] = True  # speck
    cleaned = clean_mask(mask, fill_holes=True, min_size=5, clear_border=True)
    assert cleaned[32, 32] and not cleaned[1, 1] and not cleaned[50, 50]
    opened = clean_mask(mask, opening_radius=1)
    assert not opened[50, 50]
    closed = clean_mask(np.pad(np.ones((10, 10), bool), 5) & ~np.eye(20, dtype=bool), closing_radius=1)
    assert closed[10, 10]


def test_border_min_size_keeps_cells_cut_by_the_edge_and_drops_inner_specks():
    prob = np.zeros((64, 64), np.float32)
    prob[0:3, 20:26] = 0.9  # 18 px sliver of a nucleus cut by the top edge
    prob[40:44, 40:44] = 0.9  # 16 px speck inside the image
    prob[10:30, 40:60] = 0.9  # 400 px nucleus
    base = PostprocessOptions(threshold_method="fixed", threshold=0.5, min_size=30,
                              instance_method="watershed", min_distance=5)
    _, _, mask, labels = postprocess(prob, base)
    assert not mask[1, 22] and not mask[42, 42] and mask[20, 50]
    _, _, mask, labels = postprocess(prob, replace(base, border_min_size=0))
    assert mask[1, 22] and not mask[42, 42] and mask[20, 50]
    assert labels[1, 22] > 0 and labels[42, 42] == 0 and len(np.unique(labels)) == 3
    # a border minimum above the sliver removes it again; the inner rule is unchanged
    _, _, mask, _ = postprocess(prob, replace(base, min_size=10, border_min_size=20))
    assert not mask[1, 22] and mask[42, 42]
    cleaned = clean_mask(prob > 0.5, min_size=30, border_min_size=10)
    assert cleaned[1, 22] and not cleaned[42, 42]


def test_watershed_splits_touching_nuclei_connected_does_not():
    mask = disk((64, 96), (32, 30), 14) | disk((64, 96), (32, 54), 14)
    assert label_instances(mask, "connected").max() == 1
    labels = label_instances(mask, "watershed", min_distance=8)
    assert labels.dtype == np.uint16 and labels.max() == 2
    assert labels[32, 30] != labels[32, 54]
    assert label_instances(mask, "none") is None
    assert INSTANCE_METHODS.names() == ["connected", "contour", "distance", "none",
                                       "seeded_watershed", "watershed"]


def _broken_membrane():
    """Two cells (probability 0.95) left and right of a membrane column (0.05) with a gap of
    faint membrane (0.6) in rows 14-17: thresholding at 0.5 joins the cells through the gap."""
    prob = np.full((32, 48), 0.95, np.float32)
    prob[:, 23:25] = 0.05
    prob[14:18, 23:25] = 0.6
    return prob


def test_seeded_watershed_splits_cells_joined_through_a_faint_gap():
    prob = _broken_membrane()
    mask = prob > 0.5
    assert label_instances(mask, "connected").max() == 1
    labels = label_instances(mask, "seeded_watershed", prob=prob, seed_threshold=0.9)
    assert labels.max() == 2 and (labels[mask] > 0).all()
    assert (labels[:, :23] == labels[0, 0]).all() and (labels[:, 25:] == labels[0, 47]).all()
    # a speck above the seed threshold in an otherwise faint object: dropped by min_seed_size,
    # the object keeps one label (objects without a seed are labelled as they are)
    faint = np.full((16, 16), 0.6, np.float32)
    faint[2, 2] = faint[12, 12] = 0.95
    both = label_instances(faint > 0.5, "seeded_watershed", prob=faint, seed_threshold=0.9)
    one = label_instances(faint > 0.5, "seeded_watershed", prob=faint, seed_threshold=0.9,
                          min_seed_size=2)
    assert both.max() == 2 and one.max() == 1 and (one == 1).all()


def test_separate_touching_draws_a_line_between_instances():
    prob = _broken_membrane()
    options = PostprocessOptions(threshold_method="fixed", threshold=0.5,
                                 instance_method="seeded_watershed", seed_threshold=0.9,
                                 separate_touching=True)
    _, _, mask, labels = postprocess(prob, options)
    # the gap rows lose exactly one column (the line), nothing else changes
    expected = prob > 0.5
    assert (mask != expected).sum() == 4 and not mask[14:18].all(axis=1).any()
    assert (labels[mask] > 0).all() and (labels[~mask] == 0).all()
    assert label_instances(mask, "connected").max() == 2
    off = postprocess(prob, PostprocessOptions(threshold_method="fixed", threshold=0.5,
                                               instance_method="seeded_watershed"))
    assert (off[2] == expected).all()


def test_contour_channel_splits_objects():
    mask = np.zeros((32, 64), bool)
    mask[8:24, 8:56] = True
    contour = np.zeros(mask.shape, np.float32)
    contour[:, 31:33] = 1.0
    labels = label_instances(mask, "contour", contour=contour)
    assert labels.max() == 2 and (labels[mask] > 0).all()
    with pytest.raises(ValueError, match="contour_channel"):
        label_instances(mask, "contour")


def test_contour_threshold_decides_which_pixels_cut_an_object():
    # a faint contour (0.4) between two halves: contour only below a threshold of 0.4
    mask = np.zeros((32, 64), bool)
    mask[8:24, 8:56] = True
    contour = np.zeros(mask.shape, np.float32)
    contour[:, 31:33] = 0.4
    assert label_instances(mask, "contour", contour=contour).max() == 1  # default 0.5
    assert label_instances(mask, "contour", contour=contour, contour_threshold=0.3).max() == 2
    prob = np.stack([1.0 - mask, mask * (1.0 - contour), mask * contour], axis=-1)
    options = PostprocessOptions(threshold_method="fixed", threshold=0.5, background_channel=0,
                                 contour_channel=2, instance_method="contour")
    assert postprocess(prob, options)[3].max() == 1
    assert postprocess(prob, replace(options, contour_threshold=0.3))[3].max() == 2
    # the config key reaches the options, and split tuning can set it
    section = {"instance_method": "contour", "contour_threshold": 0.3}
    assert PostprocessOptions.from_config(section).contour_threshold == 0.3
    assert with_split_value(options, 0.35).contour_threshold == 0.35


def test_contour_seeds_below_min_seed_size_are_dropped_and_unseeded_objects_kept():
    mask = np.zeros((32, 64), bool)
    mask[8:24, 8:40] = True  # one object, cut by a contour line at x 21-22 ...
    mask[26:30, 50:54] = True  # ... and a small one that is all contour
    contour = np.zeros(mask.shape, np.float32)
    contour[:, 21:23] = 1.0
    contour[26:30, 50:54] = 1.0
    contour[8:24, 10:12] = 1.0  # isolates a 2 px wide seed strip at x 8-9 (32 px)
    labels = label_instances(mask, "contour", contour=contour)
    assert len(np.unique(labels[mask])) == 4  # strip, left part, right part, all-contour object
    labels = label_instances(mask, "contour", contour=contour, min_seed_size=40)
    assert len(np.unique(labels[mask])) == 3 and (labels[mask] > 0).all()
    assert labels[16, 8] == labels[16, 15]  # the strip's pixels joined the left part


def test_foreground_of_a_contour_model_is_one_minus_background():
    # 3-class softmax (background, interior, contour): two squares joined by a bridge, the
    # bridge and the squares' rims predicted as contour
    prob = np.zeros((32, 64, 3), np.float32)
    prob[..., 0] = 1.0
    objects = np.zeros((32, 64), bool)
    objects[8:24, 8:30] = objects[8:24, 34:56] = objects[14:18, 30:34] = True
    rim = objects & ~np.pad(objects[1:-1, 1:-1], 1) | (objects & (np.abs(np.arange(64) - 31.5) < 4))
    prob[objects] = [0.1, 0.9, 0.0]
    prob[rim] = [0.1, 0.2, 0.7]
    options = PostprocessOptions(threshold_method="fixed", threshold=0.5, background_channel=0,
                                 contour_channel=2, instance_method="contour")
    assert np.allclose(foreground_map(prob, options), 1.0 - prob[..., 0])
    assert options.smoothing_channel == 0
    fg, _, mask, labels = postprocess(prob, options)
    assert (mask == objects).all()  # the contour class counts as foreground
    assert labels.max() == 2 and labels[16, 10] != labels[16, 50]
    # the last channel (contour) as foreground would lose the interiors
    last = postprocess(prob, PostprocessOptions(threshold_method="fixed", threshold=0.5))[2]
    assert last.sum() == rim.sum()


def test_distance_levels_split_touching_nuclei_the_distance_transform_merges():
    """Two overlapping discs of different size joined by a wide neck: the watershed of the
    mask's own distance transform finds one centre (min_distance 15), the predicted distance
    levels (softmax over background + 4 levels, made from the true instances) give one seed
    per nucleus, and the two meet at the neck."""
    from dl_suite.data.targets import make_target
    from dl_suite.inference.postprocess import distance_energy

    true = disk((48, 80), (24, 28), 15).astype(np.int32)
    true[disk((48, 80), (24, 48), 11) & (true == 0)] = 2
    mask = true > 0
    assert label_instances(mask, "watershed", min_distance=15).max() == 1
    levels = make_target(true, "distance", num_classes=5)
    prob = np.full(levels.shape + (5,), 0.02, np.float32)
    np.put_along_axis(prob, levels[..., None].astype(int), 0.92, axis=-1)
    energy = distance_energy(prob)
    np.testing.assert_allclose(energy[24, 28], 0.92 + 0.02 * (0 + 1 + 2 + 3) / 4, atol=1e-6)
    np.testing.assert_allclose(energy[0, 0], 0.02 * (1 + 2 + 3 + 4) / 4, atol=1e-6)
    options = PostprocessOptions(threshold_method="fixed", threshold=0.5, background_channel=0,
                                 instance_method="distance", seed_threshold=0.7)
    _, _, got_mask, labels = postprocess(prob, options)
    assert (got_mask == mask).all()
    assert labels.max() == 2 and labels[24, 28] != labels[24, 50]
    # each predicted object matches its true nucleus (the seam runs through a level-1 plateau)
    for value in (1, 2):
        got = labels == np.bincount(labels[true == value]).argmax()
        iou = (got & (true == value)).sum() / (got | (true == value)).sum()
        assert iou > 0.9, (value, iou)  # 0.97 and 0.93
    with pytest.raises(ValueError, match="distance targets"):
        label_instances(mask, "distance")


def test_postprocess_pipeline_from_config_section():
    prob = np.zeros((64, 64, 2), np.float32)
    prob[..., 1] = disk((64, 64), (20, 20), 8) * 0.8 + disk((64, 64), (45, 45), 6) * 0.7
    opts = PostprocessOptions.from_config(
        {"threshold_method": "fixed", "min_size": 10, "instance_method": "connected",
         "blursize": [3, 3], "colorize": True}, threshold=0.5)
    fg, thr, mask, labels = postprocess(prob, opts)
    assert thr == 0.5 and fg.shape == (64, 64) and mask.dtype == bool
    assert labels.max() == 2
