"""The run folder's contract: what resumes, what is refused, who holds it, what it records."""
import json
import os
import stat
import subprocess
import sys
import time

import pytest

from benchmarks.reliability import cli, in_process, one_error_line
from tfmodels.rundir import RunDir

TRAIN = ["train", "mlp", "--data", "digits", "--batch-size", "64"]


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A 2-epoch run, exported, trained under umask 022."""
    out = tmp_path_factory.mktemp("rundir") / "run"
    old = os.umask(0o022)
    try:
        code, _, err = in_process([*TRAIN, "--epochs", "2", "--out", str(out)])
        assert code == 0, err
        code, _, err = in_process(["export", str(out), "--quant", "float32,int8"])
        assert code == 0, err
    finally:
        os.umask(old)
    return RunDir(out)


def test_config_records_every_argument_the_classes_and_versions(finished):
    config = finished.config()
    for key in ("model", "model_kwargs", "data", "epochs", "batch_size", "learning_rate", "schedule",
                "optimizer", "seed", "strategy", "qat", "mixed_precision", "class_names", "versions"):
        assert key in config, key
    assert config["data"]["ref"] == "digits" and config["class_names"] == [str(i) for i in range(10)]
    assert set(config["versions"]) >= {"tfmodels", "tensorflow", "tf-keras", "tensorflow-gnn", "python"}
    assert finished.metrics()["run_id"] == config["run_id"] == finished.export_report()["run_id"]
    assert (finished.export_dir / "labels.txt").read_text().split() == config["class_names"]


def test_files_and_folders_get_the_modes_the_umask_gives(finished):
    files = [finished.config_file, finished.metrics_file, finished.saved_model / "saved_model.pb",
             *finished.export_files().values()]
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path
    for folder in (finished.saved_model, finished.checkpoints, finished.export_dir.resolve()):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o755, folder


def test_the_same_command_on_a_finished_run_changes_nothing(finished):
    before = finished.metrics()["weights_sha256"], finished.export_report()["created"]
    code, _, err = in_process([*TRAIN, "--epochs", "2", "--out", str(finished.path)])
    assert code == 0, err
    assert (finished.metrics()["weights_sha256"], finished.export_report()["created"]) == before
    assert finished.is_complete()


def test_other_arguments_name_the_keys_and_the_ways_out(finished):
    code, _, err = in_process([*TRAIN, "--epochs", "2", "--learning-rate", "0.01", "--seed", "3",
                               "--out", str(finished.path)])
    assert one_error_line(code, err)
    assert "learning_rate (0.001 -> 0.01)" in err and "seed (0 -> 3)" in err and "--overwrite" in err
    code, _, err = in_process([*TRAIN, "--epochs", "1", "--out", str(finished.path)])
    assert one_error_line(code, err) and "already trained 2 epochs" in err


def test_more_epochs_continue_the_run_and_retire_its_export(tmp_path, finished):
    import shutil

    run = RunDir(tmp_path / "more")
    shutil.copytree(finished.path, run.path, symlinks=True)
    code, out, err = in_process([*TRAIN, "--epochs", "3", "--out", str(run.path)])
    assert code == 0, err
    metrics = run.metrics()
    assert metrics["resumed_from_epoch"] == 2 and metrics["epochs"] == 3
    assert all(len(v) == 3 for v in metrics["history"].values())
    assert metrics["run_id"] == finished.metrics()["run_id"]  # the same run, continued
    assert not run.export_dir.exists() and not run.is_complete()  # the old export is stale


def test_a_held_folder_names_its_holder_and_a_killed_holder_frees_it(tmp_path):
    run = tmp_path / "held"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from tfmodels.rundir import RunDir\n"
        f"with RunDir({str(run)!r}).lock('tfmodels train'):\n"
        "    print('held', flush=True); time.sleep(60)")], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    code, _, err = in_process([*TRAIN, "--epochs", "1", "--out", str(run)])
    assert one_error_line(code, err) and f"pid {holder.pid}" in err and "tfmodels train" in err
    holder.kill()
    holder.wait()
    code, _, err = in_process([*TRAIN, "--epochs", "1", "--out", str(run)])
    assert code == 0, err


def test_export_and_eval_need_no_flag_for_a_run_trained_with_data_dir(tmp_path, data_dir):
    env = {k: v for k, v in os.environ.items() if k != "TFMODELS_DATA_DIR"}
    out = tmp_path / "usps"
    steps = [[*TRAIN[:3], "usps", "--data-dir", str(data_dir), "--epochs", "1", "--out", str(out)],
             ["export", str(out), "--quant", "float32"], ["eval", str(out)]]
    for args in steps:
        proc = subprocess.run([sys.executable, "-m", "tfmodels", *args], capture_output=True, text=True, env=env)
        assert proc.returncode == 0, proc.stderr[-2000:]
    figures = json.loads(proc.stdout)
    assert figures["dataset"] == "usps" and figures["test_examples"] == 2007
    assert abs(figures["tflite"]["float32"]["accuracy"] - figures["keras"]["accuracy"]) < 1e-3


def _trained_and_evaluated(model: str, data: str, out) -> dict:
    """``tfmodels train MODEL --data DATA --epochs 1``, then ``tfmodels eval``'s figures."""
    code, _, err = in_process(["train", model, "--data", data, "--epochs", "1", "--out", str(out)])
    assert code == 0, err
    code, stdout, err = in_process(["eval", str(out)])
    assert code == 0, err
    return json.loads(stdout)


def test_eval_reports_mae_and_rmse_for_a_regression_run(tmp_path):
    out = tmp_path / "co2"
    figures = _trained_and_evaluated("rnn_forecaster", "co2", out)
    assert figures["evaluation"] == "regression" and "accuracy" not in figures["keras"]
    assert 0 < figures["keras"]["mae"] <= figures["keras"]["rmse"]
    assert figures["keras"]["rmse"] == pytest.approx(RunDir(out).metrics()["test_loss"] ** 0.5, rel=1e-3)


def test_nan_learning_rate_is_refused_before_anything_is_written(tmp_path):
    out = tmp_path / "nan"
    started = time.perf_counter()
    code, _, err = in_process([*TRAIN, "--learning-rate", "nan", "--out", str(out)])
    assert one_error_line(code, err) and "learning_rate" in err
    assert not out.exists() and time.perf_counter() - started < 5


def test_eval_of_an_autoencoder_reports_its_reconstruction_error(tmp_path):
    figures = _trained_and_evaluated("conv_autoencoder", "digits", tmp_path / "ae")
    assert figures["evaluation"] == "reconstruction" and 0 < figures["keras"]["mse"] < 0.2
    assert figures["keras"]["mae"] > 0
