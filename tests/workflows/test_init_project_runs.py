"""A folder made by `dl-suite init` trains and evaluates; its HTML report has the run's curves."""

from dl_suite.cli.main import main
from dl_suite.config import load_config
from dl_suite.workflows.demo import make_demo_data
from dl_suite.workflows.evaluate import evaluate
from dl_suite.workflows.train import train
from tests.workflows.conftest import TINY


def test_init_project_trains_and_writes_html_report(tmp_path):
    data = tmp_path / "data"
    make_demo_data(data, num_train=6, num_test=2, size=48)
    folder = tmp_path / "projects" / "UNet" / "Demo"
    assert main(["init", str(folder), "--model", "unet", "--images", str(data / "train" / "images"),
                 "--masks", str(data / "train" / "masks"), "--test-images", str(data / "test" / "images"),
                 "--test-masks", str(data / "test" / "masks")]) == 0
    cfg = load_config(folder / "train_eval_infer.config",
                      TINY + ["eval.optimise_threshold=True", "eval.scores=[\"pixel\"]"])
    run_dir = train(cfg)
    out = evaluate(cfg, run=run_dir)["output_dir"]
    page = (out / "report.html").read_text()
    assert run_dir.parent == folder / "models"
    assert 'id="per-image-table"' in page and page.count('<img src="overlays/') == 2
    assert 'aria-label="validation dice vs threshold"' in page  # from the run's threshold.json
    assert 'aria-label="loss"' in page  # from the run's history.csv
