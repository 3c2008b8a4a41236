import numpy as np
import pytest

from dl_suite.evaluation.errors import instance_errors


def test_each_cause_is_counted_once():
    true = np.zeros((64, 64), np.int32)
    pred = np.zeros_like(true)
    true[2:12, 2:12] = 1; pred[2:12, 2:12] = 1            # matched
    true[20:23, 2:5] = 2                                  # tiny (9 px), not predicted
    true[30:38, 2:10] = 3                                 # missed
    true[2:10, 30:38] = 4; true[2:10, 40:48] = 5          # merged: one prediction over both
    pred[2:10, 30:48] = 2
    true[20:30, 30:40] = 6                                # split in two halves (IoU 0.5 each)
    pred[20:30, 30:35] = 3; pred[20:30, 35:40] = 4
    true[40:50, 30:40] = 7; pred[40:50, 30:54] = 5        # boundary: prediction 2.4x too wide
    pred[55:60, 55:60] = 6                                # extra: on background
    pred[2:4, 10:14] = 7                                  # extra: a speck touching object 1
    counts = instance_errors(pred, true)
    assert counts == {"matched": 1, "tiny": 1, "missed": 1, "merged": 2, "split": 1,
                      "boundary": 1, "extra": 2, "true": 7, "pred": 7}
    # "tiny" is tested first: a limit of 100 px takes the missed and the two merged 64 px objects
    counts = instance_errors(pred, true, tiny=100)
    assert (counts["tiny"], counts["missed"], counts["merged"]) == (4, 0, 0)


def test_perfect_prediction_and_shape_check():
    true = np.zeros((16, 16), np.int32)
    true[2:8, 2:8], true[9:14, 9:14] = 1, 2
    assert instance_errors(true, true) == {"matched": 2, "tiny": 0, "missed": 0, "merged": 0,
                                           "split": 0, "boundary": 0, "extra": 0, "true": 2, "pred": 2}
    with pytest.raises(ValueError, match="same shape"):
        instance_errors(true, true[:8])


def test_script_leaves_ignored_objects_out(tmp_path, capsys):
    import importlib.util
    from pathlib import Path

    from dl_suite.io import write_image

    path = Path(__file__).resolve().parents[2] / "additional_scripts" / "instance_errors.py"
    spec = importlib.util.spec_from_file_location("instance_errors", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    for folder in ("pred", "true", "ignore"):
        (tmp_path / folder).mkdir()
    true = np.zeros((40, 40), np.uint16)
    true[5:15, 5:15], true[25:35, 25:35] = 1, 2
    pred = np.where(true == 1, 1, 0).astype(np.uint16)  # the second nucleus is missed
    write_image(tmp_path / "pred" / "a_labels.tif", pred)
    write_image(tmp_path / "true" / "a.tif", true)
    write_image(tmp_path / "ignore" / "a.tif", (true == 2).astype(np.uint8) * 255)
    args = [str(tmp_path / "pred"), str(tmp_path / "true")]
    assert script.main(args) == 0
    assert "| a | 1 | 0 | 1 | 0 | 0 | 0 | 0 | 2 | 1 | 0.667 |" in capsys.readouterr().out
    assert script.main(args + ["--ignore", str(tmp_path / "ignore")]) == 0
    assert "| a | 1 | 0 | 0 | 0 | 0 | 0 | 0 | 1 | 1 | 1 | 1.000 |" in capsys.readouterr().out
    write_image(tmp_path / "true" / "b.tif", true)
    (tmp_path / "true" / "a.tif").unlink()  # a missing true mask: one message, exit 2
    assert script.main(args) == 2
    err = capsys.readouterr().err
    assert "Error: No true mask in" in err and "for a (named like the image" in err
    # two ignore masks for one image: one message, exit 2
    write_image(tmp_path / "true" / "a.tif", true)
    write_image(tmp_path / "ignore" / "a.png", (true == 2).astype(np.uint8) * 255)
    assert script.main(args + ["--ignore", str(tmp_path / "ignore")]) == 2
    assert "are both the ignore mask of 'a'; keep one" in capsys.readouterr().err
    # an ignore mask of another size: one message, exit 2
    (tmp_path / "ignore" / "a.png").unlink()
    write_image(tmp_path / "ignore" / "a.tif", np.zeros((20, 40), np.uint8))
    assert script.main(args + ["--ignore", str(tmp_path / "ignore")]) == 2
    assert "The ignore mask a.tif is 40x20 px but its true mask a.tif is 40x40" in (
        capsys.readouterr().err)
    write_image(tmp_path / "pred" / "a_labels.tif", pred[:30])  # a prediction of another size
    assert script.main(args) == 2
    assert "a_labels.tif is 40x30 px but its true mask a.tif is 40x40: not the same image?" in (
        capsys.readouterr().err)
