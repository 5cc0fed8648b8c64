"""Distributed: the seed CNN on digits at one global batch (32), trained every way we offer.

Samples/s (steady epochs, first epoch excluded) for a plain ``model.fit``, our trainer on
one device, MirroredStrategy over 2 logical CPUs and 2 local MultiWorkerMirrored workers;
the speedup of mixed precision (``mixed_float16`` on GPU, ``mixed_bfloat16`` on CPU)
and of XLA; and the wall time a SIGKILL costs: (killed run
+ resumed run) minus one uninterrupted run, each a fresh ``tfmodels train`` process.
On a 2-core machine the replicas share the same cores, so the multi-device figures show
the strategies' overhead, not scaling.
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.foundation import THROUGHPUT_EPOCHS, THROUGHPUT_ROUNDS, throughput
from tfmodels import train
from tfmodels.data import load_splits
from tfmodels.rundir import RunDir

EPOCHS = 6          # mirrored, multi-worker, mixed precision and XLA runs
RESUME_EPOCHS = 10  # kill/resume runs: killed once epoch KILL_AFTER is checkpointed
KILL_AFTER = 5
ROUNDS = 3          # medians over alternating rounds
TRAIN = ["train", "seed_cnn", "--data", "digits"]

MIRRORED = """
import json
from tfmodels.train import fit, split_cpu
split_cpu(2)
r = fit("seed_cnn", "digits", strategy="mirrored", epochs={epochs}, batch_size=16, verbose=0)
print(json.dumps({{"samples_per_s": r.metrics["samples_per_s"], "devices": r.metrics["devices"]}}))
"""


def _cli(args, **kwargs):
    return subprocess.Popen([sys.executable, "-m", "tfmodels", *args], text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **kwargs)


def _last_json(text: str) -> dict:
    start = text.rfind("\n{\n")
    return json.loads(text[start + 1:text.index("\n}", start) + 2])


def _mirrored() -> float:
    proc = subprocess.run([sys.executable, "-c", MIRRORED.format(epochs=EPOCHS)],
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])["samples_per_s"]


def _multiworker(tmp: Path) -> float:
    out = tmp / f"mw{time.monotonic_ns()}"
    proc = _cli(["launch", "--workers", "2", "--", *TRAIN, "--epochs", str(EPOCHS),
                 "--batch-size", "16", "--out", str(out)])
    text, _ = proc.communicate()
    if proc.returncode:
        raise RuntimeError(f"multi-worker run failed:\n{text[-3000:]}")
    worker0 = "\n".join(line.removeprefix("[worker 0] ") for line in text.splitlines()
                        if line.startswith("[worker 0] "))
    return _last_json(worker0)["samples_per_s"]


def _timed_train(out: Path, kill_after: int | None = None) -> float:
    """Wall seconds of one ``tfmodels train`` process (killed once a checkpoint exists)."""
    start = time.perf_counter()
    proc = _cli([*TRAIN, "--epochs", str(RESUME_EPOCHS), "--out", str(out)], env={
        **os.environ, "PYTHONUNBUFFERED": "1"})
    if kill_after is None:
        proc.communicate()
    else:
        index = out / "checkpoints" / f"ckpt-{kill_after}.index"
        while not index.exists():
            if proc.poll() is not None:
                raise RuntimeError("the run ended before it could be killed")
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate()
    return time.perf_counter() - start


def _resume_seconds_lost(tmp: Path) -> dict:
    whole = _timed_train(tmp / "whole")
    killed = _timed_train(tmp / "resumed", kill_after=KILL_AFTER)
    resumed = _timed_train(tmp / "resumed")
    metrics = RunDir(tmp / "resumed").metrics()
    return {"uninterrupted_seconds": whole, "killed_seconds": killed, "resumed_seconds": resumed,
            "resume_seconds_lost": killed + resumed - whole,
            "resumed_from_epoch": metrics["resumed_from_epoch"], "epochs": metrics["epochs"]}


def _speedup(splits, **option) -> tuple[float, float]:
    """Median samples/s with the option off and on, alternating."""
    off, on = [], []
    for _ in range(ROUNDS):
        off.append(train.fit("seed_cnn", splits, epochs=EPOCHS, verbose=0).metrics["samples_per_s"])
        on.append(train.fit("seed_cnn", splits, epochs=EPOCHS, verbose=0, **option).metrics["samples_per_s"])
    return float(np.median(off)), float(np.median(on))


def run(data_dir) -> dict:
    splits = load_splits("digits")
    plain, ours = throughput(splits)  # foundation's measurement, same epochs and rounds
    mirrored = float(np.median([_mirrored() for _ in range(ROUNDS)]))
    with tempfile.TemporaryDirectory() as tmp:
        multiworker = float(np.median([_multiworker(Path(tmp)) for _ in range(ROUNDS)]))
        resume = _resume_seconds_lost(Path(tmp))
    mp_off, mp_on = _speedup(splits, mixed_precision=True)
    xla_off, xla_on = _speedup(splits, jit_compile=True)
    return {
        "plain_fit_samples_per_s": plain,
        "trainer_samples_per_s": ours,
        "trainer_throughput_ratio": ours / plain,
        "mirrored_2cpu_samples_per_s": mirrored,
        "multiworker_2_samples_per_s": multiworker,
        **resume,
        "mixed_precision_samples_per_s": mp_on,
        "mixed_precision_speedup": mp_on / mp_off,
        "xla_samples_per_s": xla_on,
        "xla_speedup": xla_on / xla_off,
        "device": "{strategy} on {devices}".format(**train.describe(train.get_strategy("auto"))),
        "config": {"model": "seed_cnn", "data": "digits", "global_batch_size": 32,
                   "epochs": EPOCHS, "rounds": ROUNDS, "resume_epochs": RESUME_EPOCHS,
                   "throughput_epochs": THROUGHPUT_EPOCHS, "throughput_rounds": THROUGHPUT_ROUNDS,
                   "killed_after_epoch": KILL_AFTER},
    }
