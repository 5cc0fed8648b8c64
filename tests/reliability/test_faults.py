"""Fault injection through the real CLI (the small version of `python -m benchmarks reliability`).

SIGKILL at seeded random moments, every file of a finished run damaged in turn, and the
ordinary mistakes: each must leave one consistent generation, fall back or say one line.
"""
import pytest

from benchmarks import reliability


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("reliability")


def test_train_killed_ten_times_resumes_to_one_generation_with_every_epoch(work):
    result = reliability.train_kills(work, trials=10, seed=0)
    assert result["first_run_ok"]
    assert result["failed"] == 0 and result["mixed_generations"] == 0, result["failures"]


def test_export_killed_ten_times_keeps_the_old_set_or_the_new_one(work):
    result = reliability.export_kills(work, trials=10, seed=1)
    assert result["first_run_ok"]
    assert result["failed"] == 0 and result["mixed_generations"] == 0, result["failures"]


def test_every_damaged_file_falls_back_or_is_one_error_line(work):
    result = reliability.corruption_matrix(work, seed=0, kinds=1)
    assert result["files"] >= 10  # config, metrics, checkpoints, SavedModel, every export file
    assert result["corruption_tracebacks"] == 0 and result["corruption_silent_wrong"] == 0, result["failures"]


def test_every_misuse_exits_2_with_one_error_line_and_writes_nothing(work):
    result = reliability.misuse_matrix(work)
    assert result["misuse_commands"] >= 40  # the listed mistakes and the wrong model/data pairs
    assert result["misuse_tracebacks"] == 0 and result["misuse_wrong_exit"] == 0, result["failures"]


def test_mixed_generation_is_detected(work):
    """The checker itself: an export swapped for another training's is caught."""
    import json
    import shutil

    from tfmodels.rundir import RunDir

    base = work / "corrupt_base"  # trained and exported by the corruption test
    copy = work / "mixed"
    shutil.copytree(base, copy, symlinks=True)
    run = RunDir(copy)
    assert reliability.mixed_generation(run) is None
    report = json.loads(run.report_file.read_text())
    run.report_file.write_text(json.dumps(report | {"run_id": "another"}))
    assert "another training" in reliability.mixed_generation(run)
