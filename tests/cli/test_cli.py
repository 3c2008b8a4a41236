import json
import os
import subprocess
import sys

from dl_suite.cli.main import main
from tests.conftest import REPO


def run_cli(*args, cwd=None):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "dl_suite", *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=120)


def test_validate_prints_resolved_config(tmp_path, capsys):
    path = tmp_path / "a.config"
    path.write_text("[model]\nmodel = \"TensorflowUNet\"\n")
    assert main(["validate", str(path), "--set", "train.epochs=3"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["model"]["name"] == "unet" and printed["train"]["epochs"] == 3


def test_user_errors_exit_2_with_one_message_and_no_traceback(tmp_path):
    bad = tmp_path / "bad.config"
    bad.write_text("[train]\nepochs = \"ten\"\n[modle]\nx = 1\n")
    proc = run_cli("validate", str(bad))
    assert proc.returncode == 2
    assert "train.epochs" in proc.stderr and "[modle]" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = run_cli("validate", str(tmp_path / "missing.config"))
    assert proc.returncode == 2 and "not found" in proc.stderr


def test_training_with_missing_data_is_a_user_error(tmp_path, capsys):
    path = tmp_path / "a.config"
    path.write_text('[train]\nimage_datapath = "./nope/images"\nmask_datapath = "./nope/masks"\n')
    assert main(["train", str(path)]) == 2
    assert "nope" in capsys.readouterr().err


def test_help_lists_commands():
    proc = run_cli("--help")
    assert proc.returncode == 0
    for command in ("demo", "train", "evaluate", "infer", "validate"):
        assert command in proc.stdout


def test_bad_option_combination_is_a_user_error(tmp_path, capsys):
    from dl_suite.workflows.demo import make_demo_data

    make_demo_data(tmp_path / "data", num_train=2, num_test=1, size=32)
    path = tmp_path / "a.config"
    path.write_text('[model]\nimage_height = 32\nimage_width = 32\nnum_layers = 3\nclipvalue = 0.5\nclipnorm = 1.0\n'
                    '[train]\nimage_datapath = "./data/train/images"\nmask_datapath = "./data/train/masks"\n')
    assert main(["train", str(path)]) == 2
    err = capsys.readouterr().err
    assert "clipvalue" in err and "clipnorm" in err


def test_resume_of_a_folder_that_is_not_a_run(tmp_path, capsys):
    path = tmp_path / "a.config"
    path.write_text("[train]\nepochs = 1\n")
    (tmp_path / "not_a_run").mkdir()
    assert main(["train", str(path), "--resume", str(tmp_path / "not_a_run")]) == 2
    assert "not_a_run" in capsys.readouterr().err
