"""evaluate scores exactly the files infer writes; tuning never sees the scored images."""

import csv
import json

import numpy as np
import pytest

from dl_suite.config import load_config
from dl_suite.evaluation import instance_scores, label_scores, true_objects
from dl_suite.io import read_image, read_mask
from dl_suite.workflows.demo import make_demo_data
from dl_suite.workflows.evaluate import evaluate
from dl_suite.workflows.infer import infer
from dl_suite.workflows.train import train
from tests.workflows.conftest import CONFIG, TINY


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One tiny run (6 training, 2 test images of 48 px), shared by the tests below."""
    root = tmp_path_factory.mktemp("evaluate_infer")
    make_demo_data(root / "data", num_train=6, num_test=2, size=48)
    (root / "project.config").write_text(CONFIG)
    run_dir = train(load_config(root / "project.config", TINY))
    return root, run_dir


def _csv_rows(out_dir):
    with open(out_dir / "evaluation.csv") as f:
        return {row["image"]: row for row in csv.DictReader(f) if row["image"] != "mean"}


def test_evaluation_rows_equal_scores_of_the_written_files(trained, tmp_path):
    root, run_dir = trained
    cfg = load_config(root / "project.config", TINY)
    # A barely trained model: store the 70th percentile of its probabilities as the run's
    # threshold (and a minimum size of 3 px) so that the masks are fragmented and holed.
    infer(cfg, run=run_dir, output_dir=tmp_path / "first")
    probs = [read_image(p) for p in sorted((tmp_path / "first").glob("*_prob.tif"))]
    threshold = float(np.percentile(np.concatenate([p.ravel() for p in probs]), 70))
    (run_dir / "threshold.json").write_text(json.dumps({"threshold": threshold, "min_size": 3}))
    try:
        result = evaluate(cfg, run=run_dir)
        report = infer(cfg, run=run_dir, output_dir=root / "predictions")
    finally:
        (run_dir / "threshold.json").unlink()
    summary = result["summary"]
    assert summary["threshold"] == threshold and summary["min_size"] == 3
    assert summary["sources"] == {"threshold": "run (threshold.json)",
                                  "min_size": "run (threshold.json)"}
    assert report["done"] == 2
    rows = _csv_rows(result["output_dir"])
    assert sorted(rows) == ["nuclei_000", "nuclei_001"]
    for name, row in rows.items():
        mask = read_image(root / "predictions" / f"{name}_mask.tif") > 0
        labels = read_image(root / "predictions" / f"{name}_labels.tif")
        true = read_mask(root / "data" / "test" / "masks" / f"{name}.tif")
        assert 0.1 < mask.mean() < 0.6 and labels.max() > 1  # real segmentations
        expected = {**label_scores(mask, true), **instance_scores(labels, true_objects(true))}
        for key, value in expected.items():
            assert float(row[key]) == value, (name, key)  # exact: same files, same numbers


def test_stored_min_size_including_zero_is_what_inference_applies(trained, tmp_path):
    root, run_dir = trained
    stored = run_dir / "threshold.json"
    backup = stored.read_bytes() if stored.exists() else None
    cfg = load_config(root / "project.config",
                      TINY + ["segmentation.min_size=100000", "segmentation.fill_holes=False"])
    try:
        counts = {}
        for min_size in (0, 100000):
            stored.write_text(json.dumps({"threshold": 0.0, "min_size": min_size}))
            out = tmp_path / f"min{min_size}"
            assert infer(cfg, run=run_dir, output_dir=out)["done"] == 2
            counts[min_size] = (read_image(out / "nuclei_000_mask.tif") > 0).sum()
        # Threshold 0 makes every pixel foreground (probabilities > 0): one 48x48 object that
        # a stored minimum size of 0 keeps (the config's 100000 is not used) and 100000 drops.
        assert counts == {0: 48 * 48, 100000: 0}
    finally:
        stored.unlink()
        if backup is not None:
            stored.write_bytes(backup)


def test_tuning_never_sees_the_scored_images(trained):
    root, run_dir = trained
    base = TINY + ["eval.optimise_threshold=True", "eval.threshold_grid=[0.4, 0.5]"]
    train_dir = root / "data" / "train"
    test_paths = {str(p.resolve()) for p in (root / "data" / "test" / "images").iterdir()}
    train_paths = {str(p.resolve()) for p in (train_dir / "images").iterdir()}

    # Scored = test images, validation = seeded split of the training images.
    evaluate(load_config(root / "project.config", base), run=run_dir)
    stored = json.loads((run_dir / "threshold.json").read_text())
    assert stored["image_paths"] and set(stored["image_paths"]) <= train_paths
    assert not set(stored["image_paths"]) & test_paths

    # Scored = the training images: the validation image is among them, so nothing is tuned.
    (run_dir / "threshold.json").unlink()
    sets = base + [f"eval.image_datapath={train_dir / 'images'}",
                   f"eval.mask_datapath={train_dir / 'masks'}"]
    summary = evaluate(load_config(root / "project.config", sets), run=run_dir)["summary"]
    assert summary["tuning"]["status"].startswith("no validation images")
    assert not (run_dir / "threshold.json").exists()
    assert summary["sources"]["threshold"] == "default (0.5)"
    saved = json.loads((run_dir / "evaluation" / "eval" / "summary.json").read_text())
    assert saved["tuning"]["validation_images"] == 0

    # Scoring the validation images themselves: tuning is skipped.
    summary = evaluate(load_config(root / "project.config", base), run=run_dir,
                       split="val")["summary"]
    assert summary["tuning"]["status"].startswith("skipped") and summary["num_images"] == 1
    assert not (run_dir / "threshold.json").exists()


@pytest.mark.parametrize("target_type, classes, instance_method", [
    ("contours", 3, "contour"), ("distance", 4, "distance")])
def test_instance_target_model_is_scored_as_binary_foreground_like_infer_writes(
        tmp_path, target_type, classes, instance_method):
    """A 3-class contour-target or a distance-level run: foreground = 1 - background, contours
    or distance levels split objects, the threshold is tuned on validation images, and evaluate
    scores infer's files exactly."""
    make_demo_data(tmp_path / "data", num_train=6, num_test=2, size=48)
    (tmp_path / "project.config").write_text(CONFIG)
    overrides = TINY + [
        f"generator.target_type={target_type}", f"model.num_classes={classes}",
        "model.loss=sparse_cce", "model.metrics=[]",
        f"segmentation.instance_method={instance_method}", "segmentation.seed_threshold=0.5",
        "train.val_image_datapath=./data/train/images", "train.val_mask_datapath=./data/train/masks",
        "eval.optimise_threshold=True", "eval.threshold_metric=f1_50", "eval.min_size_grid=[0, 5]",
    ]
    cfg = load_config(tmp_path / "project.config", overrides)
    run_dir = train(cfg)
    result = evaluate(cfg, run=run_dir)
    assert result["summary"]["tuning"]["status"] == "optimised"
    stored = json.loads((run_dir / "threshold.json").read_text())
    assert result["summary"]["threshold"] == stored["threshold"]
    # the settings the threshold was tuned under are stored with it, for infer to check
    assert stored["tuned_with"]["instance_method"] == instance_method
    assert stored["tuned_with"]["min_seed_size"] == 0 and "min_distance" not in stored["tuned_with"]
    if instance_method == "distance":
        assert stored["tuned_with"]["seed_threshold"] == 0.5
    infer(cfg, run=run_dir, output_dir=tmp_path / "predictions")
    rows = _csv_rows(result["output_dir"])
    assert sorted(rows) == ["nuclei_000", "nuclei_001"]
    for name, row in rows.items():
        prob = read_image(tmp_path / "predictions" / f"{name}_prob.tif")
        mask = read_image(tmp_path / "predictions" / f"{name}_mask.tif") > 0
        labels = read_image(tmp_path / "predictions" / f"{name}_labels.tif")
        assert prob.shape == (classes, 48, 48)  # the ImageJ TIFF holds channels first
        # infer's mask is the foreground 1 - background above the tuned threshold
        foreground = 1.0 - prob[0] > stored["threshold"]
        assert (mask <= foreground).all() and "iou" in row and "f1_50" in row
        true = read_mask(tmp_path / "data" / "test" / "masks" / f"{name}.tif")
        expected = {**label_scores(mask, true), **instance_scores(labels, true_objects(true))}
        for key, value in expected.items():
            assert float(row[key]) == value, (name, key)


def _blind_copy(path):
    """Overwrites the model file at `path` with the same model whose head predicts ~0."""
    from dl_suite.io import load_keras_model, save_keras_model

    model = load_keras_model(path)
    head = next(layer for layer in reversed(model.layers) if layer.get_weights())
    kernel, bias = head.get_weights()
    head.set_weights([np.zeros_like(kernel), np.full_like(bias, -20.0)])
    save_keras_model(model, path)


def test_evaluate_keeps_the_checkpoint_that_scores_higher_on_validation_and_infer_uses_it(
        trained, tmp_path):
    import shutil

    from dl_suite.workflows import runs

    root, run_dir = trained
    run = tmp_path / "run-001"
    shutil.copytree(run_dir, run)
    _blind_copy(run / "model.keras")  # the best-loss checkpoint now segments nothing
    sets = TINY + ["eval.optimise_threshold=True", "eval.threshold_grid=[0.3, 0.5]",
                   "eval.min_size_grid=[0]"]
    choose = ["eval.model_choice=validation"]
    summary = evaluate(load_config(root / "project.config", sets + choose), run=run)["summary"]
    stored = json.loads((run / "threshold.json").read_text())
    assert stored["model"] == "model_last.keras" and summary["model"] == "model_last.keras"
    assert stored["model_scores"]["model.keras"] == 0.0 < stored["model_scores"]["model_last.keras"]
    assert summary["tuning"]["model"] == "model_last.keras"
    assert runs.model_file(run) == run / "model_last.keras"
    assert summary["mean"]["dice"] > 0.3  # the test images were scored with the last model
    out = tmp_path / "infer"
    assert infer(load_config(root / "project.config", sets), run=run, output_dir=out)["done"] == 2
    assert all((read_image(p) > 0).mean() > 0.05 for p in out.glob("*_mask.tif"))

    # `auto` (the default; `best` for this plateau run) keeps model.keras even though it scores 0
    summary = evaluate(load_config(root / "project.config", sets), run=run)["summary"]
    assert summary["model"] == "model.keras" and summary["mean"]["dice"] == 0.0
    assert json.loads((run / "threshold.json").read_text())["model"] == "model.keras"
    assert runs.model_file(run) == run / "model.keras"


def test_split_grid_tunes_min_distance_and_infer_applies_the_stored_value(trained, tmp_path):
    from dataclasses import replace

    from dl_suite.inference.postprocess import postprocess
    from dl_suite.workflows.postprocessing import run_postprocess

    root, run_dir = trained
    stored_file = run_dir / "threshold.json"
    sets = TINY + ["segmentation.instance_method=watershed", "segmentation.min_distance=20",
                   "eval.optimise_threshold=True", "eval.threshold_metric=f1_50",
                   "eval.threshold_grid=[0.3, 0.5]", "eval.min_size_grid=[0]",
                   "eval.split_grid=[1, 40]"]
    cfg = load_config(root / "project.config", sets)
    try:
        summary = evaluate(cfg, run=run_dir)["summary"]
        stored = json.loads(stored_file.read_text())
        assert stored["split_parameter"] == "min_distance" and stored["split_value"] in (1, 40)
        assert stored["instance_method"] == "watershed"
        # recorded with the tuned value, the one infer applies (no "tuned with other settings")
        assert stored["tuned_with"]["min_distance"] == stored["split_value"]
        assert [row[3] for row in stored["grid"]] == [1, 1, 40, 40]  # a third grid axis
        assert summary["sources"]["min_distance"] == "run (threshold.json)"
        assert summary["tuning"]["split_value"] == stored["split_value"]

        # infer applies the stored value, not segmentation.min_distance = 20: at the 40th
        # percentile of this barely trained model's probabilities the masks are irregular
        # blobs that min distance 1 cuts into more pieces than 40
        infer(cfg, run=run_dir, output_dir=tmp_path / "first")
        threshold = float(np.percentile(read_image(tmp_path / "first" / "nuclei_000_prob.tif"), 40))
        objects = {}
        for value in (1, 40):
            stored_file.write_text(json.dumps({**stored, "threshold": threshold, "split_value": value}))
            segment = run_postprocess(cfg, run_dir)
            assert segment.options.min_distance == value
            out = tmp_path / f"d{value}"
            infer(cfg, run=run_dir, output_dir=out)
            prob = read_image(out / "nuclei_000_prob.tif")
            labels = read_image(out / "nuclei_000_labels.tif")
            expected = postprocess(prob, replace(segment.options, threshold_method="fixed",
                                                 threshold=threshold))[3]
            np.testing.assert_array_equal(labels, expected)
            objects[value] = int(labels.max())
        assert objects[1] > objects[40] >= 1
    finally:
        stored_file.unlink(missing_ok=True)


def test_ignore_masks_leave_pixels_and_objects_out_of_evaluation_and_tuning(trained, tmp_path):
    from dl_suite.errors import DataError
    from dl_suite.evaluation.ignore import drop_ignored_objects
    from dl_suite.io import write_image

    root, run_dir = trained
    stored = run_dir / "threshold.json"
    backup = stored.read_bytes() if stored.exists() else None
    test_masks = root / "data" / "test" / "masks"
    true = read_mask(test_masks / "nuclei_000.tif")
    objects = true_objects(true)
    ignore = objects == 1  # the first nucleus of one test image; the other image has no mask
    (tmp_path / "test").mkdir()
    write_image(tmp_path / "test" / "nuclei_000.tif", ignore.astype(np.uint8) * 255)
    # every training image gets one ignored corner, so the tuning's validation image has one
    (tmp_path / "train").mkdir()
    for path in (root / "data" / "train" / "masks").glob("*.tif"):
        corner = np.zeros(read_mask(path).shape, np.uint8)
        corner[:4, :4] = 255
        write_image(tmp_path / "train" / path.name, corner)
    base = TINY + [f"eval.ignore_datapath={tmp_path / 'test'}"]
    sets = base + ["eval.optimise_threshold=True", "eval.threshold_grid=[0.4, 0.5]",
                   f"train.ignore_datapath={tmp_path / 'train'}"]
    try:
        result = evaluate(load_config(root / "project.config", sets), run=run_dir)
        tuned = json.loads(stored.read_text())
        infer(load_config(root / "project.config", sets), run=run_dir, output_dir=tmp_path / "out")
    finally:
        stored.unlink()
        if backup is not None:
            stored.write_bytes(backup)
    assert tuned["ignore_masks"] == tuned["num_images"] >= 1
    summary, rows = result["summary"], _csv_rows(result["output_dir"])
    assert summary["ignore"]["ignored_px"] == ignore.sum() > 0
    assert summary["ignore"]["true_objects_ignored"] == 1
    plain = []
    for name, row in rows.items():
        mask = read_image(tmp_path / "out" / f"{name}_mask.tif") > 0
        labels = read_image(tmp_path / "out" / f"{name}_labels.tif")
        true = read_mask(test_masks / f"{name}.tif")
        skip = ignore if name == "nuclei_000" else None
        pred, reference = labels, true_objects(true)
        if skip is not None:
            pred, reference = drop_ignored_objects(labels, reference, skip)[:2]
        expected = {**label_scores(mask, true, ignore=skip), **instance_scores(pred, reference)}
        for key, value in expected.items():
            assert float(row[key]) == value, (name, key)  # infer's files, scored around the mask
        plain.append(label_scores(mask, true)["dice"])
    assert rows["nuclei_000"]["n_true_ignored"] == "1" and rows["nuclei_001"]["ignored_px"] == "0"
    # the same masks on every pixel, for comparison
    assert summary["all_pixels"]["mean"]["dice"] == pytest.approx(np.mean(plain), abs=1e-12)
    report = (result["output_dir"] / "report.md").read_text()
    assert f"{ignore.sum()} px (" in report and "1 true / " in report
    assert f"The same masks on every pixel: dice {np.mean(plain):.4f}" in report
    # an ignore mask that pairs with no test mask is a clear error
    write_image(tmp_path / "test" / "stray.tif", ignore.astype(np.uint8))
    with pytest.raises(DataError, match=r"eval.ignore_datapath: the ignore masks stray.tif"):
        evaluate(load_config(root / "project.config", base), run=run_dir)
