"""Real kills: SIGKILL a training run (or one worker of two) and start it again."""
import re
import warnings

import numpy as np
import pytest

from conftest import TRAIN, Running, checkpoint_saved, results, wait_for

EPOCHS = 5


def final_history(out) -> dict:
    import json

    return json.loads((out / "metrics.json").read_text())["history"]


def test_killed_run_resumes_and_ends_with_the_same_epoch_count(tmp_path, kill):
    out = tmp_path / "run"
    args = [*TRAIN, "--epochs", str(EPOCHS), "--out", str(out)]
    first = Running(args)
    wait_for(lambda: checkpoint_saved(out) or first.proc.poll() is not None, what="a checkpoint")
    kill(first.proc.pid)
    first.wait()
    assert not (out / "metrics.json").exists()  # it really died before finishing

    second = Running(args)
    assert second.wait() == 0, second.output[-3000:]
    final = results(second.output)[""]
    assert final["epochs"] == EPOCHS
    assert 1 <= final["resumed_from_epoch"] < EPOCHS
    assert final["test_accuracy"] > 0.5
    assert (out / "metrics.json").exists()
    assert all(len(v) == EPOCHS for v in final_history(out).values())  # every epoch's curve, resumed or not


def test_one_killed_worker_stops_the_job_and_the_rerun_resumes(tmp_path, kill):
    out = tmp_path / "mw"
    args = ["launch", "--workers", "2", "--", *TRAIN, "--epochs", "4", "--out", str(out)]
    job = Running(args)
    wait_for(lambda: checkpoint_saved(out) or job.proc.poll() is not None, what="a checkpoint")
    pid = int(re.search(r"\[launch\] worker 1 pid (\d+)", job.output).group(1))
    kill(pid)
    code = job.wait(timeout=120)
    assert code != 0 and "worker 1 exited" in job.output

    rerun = Running(args)
    assert rerun.wait() == 0, rerun.output[-3000:]
    workers = results(rerun.output)
    assert set(workers) == {"[worker 0]", "[worker 1]"}
    w0, w1 = workers["[worker 0]"], workers["[worker 1]"]
    assert w0["epochs"] == w1["epochs"] == 4
    assert w0["resumed_from_epoch"] >= 1 and w0["strategy"] == "MultiWorkerMirroredStrategy"
    assert w0["replicas"] == 2
    assert w0["weights_sha256"] == w1["weights_sha256"]  # the two workers end identical


def test_corrupt_newest_checkpoint_falls_back_to_the_previous(tmp_path):
    from tfmodels._keras import keras
    from tfmodels.train import fit

    class Crash(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 2:
                raise KeyboardInterrupt("simulated crash after epoch 3")

    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        fit("mlp", "digits", epochs=5, out_dir=out, verbose=0, callbacks=[Crash()],
            model_kwargs={"hidden_units": (16,)})
    data_files = sorted((out / "checkpoints").glob("ckpt-3.data-*"))
    assert data_files, list((out / "checkpoints").iterdir())
    for f in data_files:  # flip bytes in the newest checkpoint's tensor data
        raw = bytearray(f.read_bytes())
        raw[len(raw) // 2: len(raw) // 2 + 64] = bytes(64)
        raw[: 64] = np.random.default_rng(0).bytes(64)
        f.write_bytes(bytes(raw))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fit("mlp", "digits", epochs=5, out_dir=out, verbose=0,
                     model_kwargs={"hidden_units": (16,)})
    assert any("ckpt-3" in str(w.message) and "damaged" in str(w.message) for w in caught)
    assert result.metrics["resumed_from_epoch"] == 2
    assert result.metrics["epochs_run_this_process"] == 3
