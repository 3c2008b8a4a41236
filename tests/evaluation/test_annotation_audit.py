import importlib.util
from pathlib import Path

import numpy as np
import pytest

from dl_suite.evaluation import audit_annotation, true_objects
from dl_suite.io import read_image, write_image

SCRIPT = Path(__file__).resolve().parents[2] / "additional_scripts" / "annotation_audit.py"


def _disc(shape, centre, radius):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return (yy - centre[0]) ** 2 + (xx - centre[1]) ** 2 <= radius ** 2


def _scene(dark=False):
    """Four bright discs on a noisy background: annotated, bare, an inner ellipse, and an
    annotation where the image shows nothing."""
    rng = np.random.default_rng(0)
    shape = (64, 64)
    image = 20 + rng.normal(0, 3, shape)
    mask = np.zeros(shape, np.uint8)
    for centre in ((15, 15), (15, 45), (45, 15)):
        image[_disc(shape, centre, 7)] = 200 + rng.normal(0, 3, (_disc(shape, centre, 7).sum(),))
    mask[_disc(shape, (15, 15), 7)] = 1          # annotated as seen
    mask[_disc(shape, (45, 15), 3)] = 1          # only a small core of a bright disc
    mask[_disc(shape, (47, 47), 5)] = 1          # nothing there in the image
    image = 220 - image if dark else image
    return image.astype(np.float32), mask


def _summary(findings):
    return sorted((f["kind"], round(f["y"]), round(f["x"])) for f in findings)


@pytest.mark.parametrize("dark", [False, True])
def test_finds_each_kind_where_it_is(dark):
    image, mask = _scene(dark)
    findings, stats = audit_annotation(image, true_objects(mask, 1), invert=dark)
    assert _summary(findings) == [("faint", 47, 47), ("partly annotated", 45, 15),
                                  ("unannotated", 15, 45)]
    by_kind = {f["kind"]: f for f in findings}
    # the core of radius 3 is 29 of the ~150 pixels the smoothed disc of radius 7 gives
    assert 0.12 < by_kind["partly annotated"]["annotated"] < 0.25
    assert by_kind["unannotated"]["annotated"] == 0.0
    assert abs(by_kind["faint"]["contrast"]) < 0.05     # background grey: contrast about 0
    assert by_kind["faint"]["area"] == int(_disc((64, 64), (47, 47), 5).sum())
    assert stats["true_objects"] == 3 and stats["signal_objects"] == 3
    assert abs(stats["background"] - (200 if dark else 20)) < 2


def test_a_faithful_annotation_has_no_findings_and_shapes_must_agree():
    image, _ = _scene()
    mask = (image > 110).astype(np.uint8)
    assert audit_annotation(image, true_objects(mask, 1))[0] == []
    with pytest.raises(ValueError, match="shape"):
        audit_annotation(image, mask[:32])


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("annotation_audit", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_script_tables_and_csv(tmp_path, script, capsys):
    image, mask = _scene()
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    write_image(tmp_path / "images" / "a.tif", image)
    write_image(tmp_path / "masks" / "a.tif", mask * 255)
    assert script.main([str(tmp_path / "images"), str(tmp_path / "masks"),
                        "--csv", str(tmp_path / "audit.csv")]) == 0
    out = capsys.readouterr().out
    assert "|  | a.tif | 3 | 3 | 1 | 1 | 1 |" in out
    lines = (tmp_path / "audit.csv").read_text().splitlines()
    assert lines[0] == "split,image,kind,area,y,x,border,annotated,contrast" and len(lines) == 4
    assert read_image(tmp_path / "masks" / "a.tif").max() == 255   # inputs untouched
    (tmp_path / "blocked").write_text("a file, not a folder")
    assert script.main([str(tmp_path / "images"), str(tmp_path / "masks"),
                        "--csv", str(tmp_path / "blocked" / "audit.csv")]) == 2
    assert "cannot write the findings" in capsys.readouterr().err


def test_script_missing_folder_is_a_clear_error(tmp_path, script, capsys):
    assert script.main([str(tmp_path / "nope"), str(tmp_path / "nope")]) == 2
    assert "Folder not found" in capsys.readouterr().err


def _config_with_folders(tmp_path):
    """train/a.tif (the scene) and valid/b.tif (2 frames: the scene, then a faithful mask)."""
    image, mask = _scene()
    for split in ("train", "valid"):
        (tmp_path / split / "images").mkdir(parents=True)
        (tmp_path / split / "masks").mkdir(parents=True)
    write_image(tmp_path / "train" / "images" / "a.tif", image)
    write_image(tmp_path / "train" / "masks" / "a.tif", mask * 255)
    # a 2-frame stack: the second frame's annotation is faithful
    write_image(tmp_path / "valid" / "images" / "b.tif", np.stack([image, image]))
    faithful = (image > 110).astype(np.uint8)
    write_image(tmp_path / "valid" / "masks" / "b.tif", np.stack([mask, faithful]) * 255)
    config = tmp_path / "a.config"
    config.write_text('[train]\nimage_datapath = "train/images"\nmask_datapath = "train/masks"\n'
                      'val_image_datapath = "valid/images"\nval_mask_datapath = "valid/masks"\n')
    return config


def test_audit_command_reads_the_config_folders_frame_by_frame(tmp_path, capsys):
    from dl_suite.cli.main import main

    config = _config_with_folders(tmp_path)
    assert main(["audit", str(config), "--csv", str(tmp_path / "out.csv")]) == 0
    out = capsys.readouterr().out
    assert "| train | a.tif | 3 | 3 | 1 | 1 | 1 |" in out
    assert "| val | b.tif#0 | 3 | 3 | 1 | 1 | 1 |" in out and "| val | b.tif#1 | 3 | 3 | 0 | 0 | 0 |" in out
    assert "| total | | 9 | 9 | 2 | 2 | 2 |" in out
    rows = (tmp_path / "out.csv").read_text().splitlines()[1:]
    assert len(rows) == 6 and rows[0].startswith("train,a.tif,")
    # a CSV path that cannot be written is a user error too, and nothing else is touched
    (tmp_path / "blocked").write_text("a file, not a folder")
    assert main(["audit", str(config), "--csv", str(tmp_path / "blocked" / "out.csv")]) == 2
    assert "Cannot write the findings" in capsys.readouterr().err
    # only the folders asked for; none configured is a user error (exit 2)
    assert main(["audit", str(config), "--split", "test"]) == 2
    assert "nothing to audit" in capsys.readouterr().err


def test_write_ignore_marks_the_findings_for_training(tmp_path, capsys):
    from dl_suite.cli.main import main
    from dl_suite.config import load_config
    from dl_suite.data.ignore import split_ignored
    from dl_suite.io import read_image_data
    from dl_suite.workflows.train import load_training_data

    config = _config_with_folders(tmp_path)
    out = tmp_path / "ignore"
    assert main(["audit", str(config), "--write-ignore", str(out), "--ignore-margin", "0"]) == 0
    said = capsys.readouterr().out
    assert f'ignore_datapath = "{(out / "train").resolve().as_posix()}"' in said
    train = read_image_data(out / "train" / "a.tif").array[0, ..., 0] > 0
    shape = train.shape
    # the bare disc, the whole partly annotated disc and the faint annotation; not the good one
    for centre, radius, marked in (((15, 45), 6, True), ((45, 15), 6, True), ((47, 47), 4, True),
                                   ((15, 15), 6, False)):
        assert train[_disc(shape, centre, radius)].all() == marked
        assert train[_disc(shape, centre, radius)].any() == marked
    val = read_image_data(out / "val" / "b.tif", axes="TYX").array[..., 0] > 0
    assert val.shape[0] == 2 and np.array_equal(val[0], train) and not val[1].any()
    # the folders now hold files (perhaps edited by hand): a second run refuses, changes nothing
    stamp = (out / "train" / "a.tif").stat().st_mtime_ns
    assert main(["audit", str(config), "--write-ignore", str(out)]) == 2
    assert "already holds files" in capsys.readouterr().err
    assert (out / "train" / "a.tif").stat().st_mtime_ns == stamp
    # training reads them: the marked pixels of the loaded masks are the ignore masks'
    cfg = load_config(str(config), [f"train.ignore_datapath={out / 'train'}",
                                    f"train.val_ignore_datapath={out / 'val'}"])
    (_, _, masks), (_, _, val_masks) = load_training_data(cfg)
    assert np.array_equal(split_ignored(masks[0])[1], train)
    assert np.array_equal(split_ignored(val_masks[0])[1], val[0])
    assert split_ignored(val_masks[1])[1] is None
    # and the run's provenance hashes them with the images and masks
    from dl_suite.workflows.provenance import _input_paths

    paths, problem = _input_paths(cfg)
    assert problem is None and {p.name for p in paths if "ignore" in str(p)} == {"a.tif", "b.tif"}


def test_ignore_folders_that_do_not_fit_are_clear_errors(tmp_path):
    from dl_suite.config import load_config
    from dl_suite.errors import DataError
    from dl_suite.workflows.train import load_training_data

    config = _config_with_folders(tmp_path)
    folder = tmp_path / "ignore"
    folder.mkdir()
    load = lambda *sets: load_training_data(load_config(str(config), list(sets)))  # noqa: E731
    with pytest.raises(DataError, match="train.ignore_datapath: Folder not found"):
        load(f"train.ignore_datapath={tmp_path / 'nowhere'}")
    write_image(folder / "c.tif", np.zeros((64, 64), np.uint8))
    with pytest.raises(DataError, match=r"ignore masks c.tif .* have no mask of the same name"):
        load(f"train.ignore_datapath={folder}")
    (folder / "c.tif").unlink()
    write_image(folder / "a.tif", np.zeros((32, 64), np.uint8))
    with pytest.raises(DataError, match="must match its mask"):
        load(f"train.ignore_datapath={folder}")
    write_image(folder / "a.png", np.zeros((64, 64), np.uint8))
    with pytest.raises(DataError, match="are both ignore masks for 'a.tif'; keep one"):
        load(f"train.ignore_datapath={folder}")
    no_val = tmp_path / "no_val.config"
    no_val.write_text('[train]\nimage_datapath = "train/images"\nmask_datapath = "train/masks"\n')
    with pytest.raises(DataError, match="no validation folder"):
        load_training_data(load_config(str(no_val), [f"train.val_ignore_datapath={folder}"]))


def test_write_ignore_covers_the_scored_split_and_says_to_report_both_scores(tmp_path, capsys):
    from dl_suite.cli.main import main
    from dl_suite.io import read_image_data

    config = _config_with_folders(tmp_path)
    config.write_text(config.read_text() + '[eval]\nimage_datapath = "train/images"\n'
                      'mask_datapath = "train/masks"\n')
    out = tmp_path / "ignore"
    assert main(["audit", str(config), "--split", "eval", "--write-ignore", str(out),
                 "--ignore-margin", "0"]) == 0
    said = capsys.readouterr().out
    assert f'score with [eval] ignore_datapath = "{(out / "eval").resolve().as_posix()}"' in said
    assert "report them beside the scores on every pixel" in said
    assert sorted(p.name for p in out.iterdir()) == ["eval"]  # only the split audited
    marked = read_image_data(out / "eval" / "a.tif").array[0, ..., 0] > 0
    shape = marked.shape
    assert marked[_disc(shape, (15, 45), 6)].all() and not marked[_disc(shape, (15, 15), 6)].any()
