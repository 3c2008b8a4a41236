import json

import pytest

from dl_suite.workflows import runs


def _run(tmp_path, schedule=None, files=(runs.BEST_MODEL, runs.LAST_MODEL)):
    run = tmp_path / "run-001"
    run.mkdir()
    train = {"epochs": 3} if schedule is None else {"epochs": 3, "lr_schedule": schedule}
    (run / runs.CONFIG_FILE).write_text(json.dumps({"train": train}))
    for name in files:
        (run / name).write_bytes(b"")
    return run


@pytest.mark.parametrize("schedule, expected", [
    ("cosine", runs.LAST_MODEL), ("plateau", runs.BEST_MODEL), (None, runs.BEST_MODEL),
    ("no_such_schedule", runs.BEST_MODEL)])
def test_auto_model_choice_takes_the_last_checkpoint_of_a_cosine_run(tmp_path, schedule, expected):
    run = _run(tmp_path, schedule)
    assert runs.anneals_to_the_end(run) == (expected == runs.LAST_MODEL)
    assert runs.checkpoint_candidates(run, "auto") == [expected]
    assert runs.model_file(run) == run / expected  # untuned: infer takes the same file
    # named choices do not depend on the schedule
    assert runs.checkpoint_candidates(run, "best") == [runs.BEST_MODEL]
    assert runs.checkpoint_candidates(run, "last") == [runs.LAST_MODEL]
    assert runs.checkpoint_candidates(run, "validation") == [runs.BEST_MODEL, runs.LAST_MODEL]


def test_a_tuned_choice_and_a_missing_checkpoint_come_before_the_schedule_rule(tmp_path):
    run = _run(tmp_path, "cosine")
    (run / "threshold.json").write_text(json.dumps(
        {"threshold": 0.5, "min_size": 0, "model": runs.BEST_MODEL}))
    assert runs.model_file(run) == run / runs.BEST_MODEL
    (tmp_path / "b").mkdir()
    only_best = _run(tmp_path / "b", "cosine", files=(runs.BEST_MODEL,))
    assert runs.checkpoint_candidates(only_best, "auto") == [runs.BEST_MODEL]
    assert runs.model_file(only_best) == only_best / runs.BEST_MODEL


@pytest.mark.parametrize("start_rate, expected", [(3e-4, runs.LAST_MODEL), (None, runs.BEST_MODEL)])
def test_auto_model_choice_takes_the_last_checkpoint_once_the_cooldown_began(
        tmp_path, start_rate, expected):
    run = _run(tmp_path, "plateau")
    (run / runs.CONFIG_FILE).write_text(json.dumps(
        {"train": {"lr_schedule": "plateau", "cooldown_fraction": 0.25}}))
    (run / runs.RESUME_DIR).mkdir()
    (run / runs.RESUME_DIR / runs.STATE_FILE).write_text(json.dumps(
        {"epoch": 20, "callbacks": {"cooldown": {"start_rate": start_rate}}}))
    # None: early stopping ended the run before the cooldown, its best checkpoint stays
    assert runs.checkpoint_candidates(run, "auto") == [expected]
    assert runs.model_file(run) == run / expected
