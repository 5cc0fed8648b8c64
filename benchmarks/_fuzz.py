"""Fuzzed .tflite files through ``tfmodels-edge predict``: no crash, no runaway memory.

Seeds are real exports (a small CNN, float32 and int8). Each trial damages one copy:
a flipped bit anywhere, a flipped bit inside a tensor's shape (the one that once made
``predict`` allocate 9.5 GB), a random byte run overwritten, or a cut. Each copy is run
by the real command in a process of its own; the trial fails ("crash") when it dies by
a signal, exits with anything but 0 or 2, or prints a traceback. The resident memory of
every process is read with ``wait4`` (its peak RSS), so the largest one over all trials
shows whether a damaged file could make the kit allocate past its memory cap.

Used by :mod:`benchmarks.reliability` (``fuzzed_tflite_files``, ``fuzz_crashes``,
``fuzz_peak_rss_mb``) and, with fewer trials, by tests/edge/test_edge_limits.py.
"""
import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np

KINDS = ("bit", "shape_bit", "bytes", "cut")


def seed_models(workdir: Path) -> list[Path]:
    """A small CNN on 8x8 digits exported to float32 and int8 (the files the fuzz damages)."""
    from tfmodels.convert import export
    from tfmodels.train import fit

    run = workdir / "seed_run"
    fit("mlp", "digits", epochs=1, out_dir=run, verbose=0)
    export(run, modes=("float32", "int8"))
    from tfmodels.rundir import RunDir

    return sorted(Path(p) for p in RunDir(run).export_files().values())


def shape_positions(data: bytes) -> list[int]:
    """Byte offsets of every tensor-shape element in a .tflite file (flatbuffer walk)."""
    from tfmodels_edge.modelfile import _Reader

    r = _Reader(data)
    model = r.table(r.u32(0), "Model table")
    positions = []
    for subgraph in r.tables(model, 2, "subgraphs"):
        for tensor in r.tables(subgraph, 0, "tensors"):
            start, length = r.vector(tensor, 0, 4, "tensor shape")
            positions += [start + 4 * i for i in range(length)]
    return positions


def damage(data: bytes, kind: str, rng: random.Random) -> bytes:
    buf = bytearray(data)
    if kind == "bit":
        i = rng.randrange(len(buf))
        buf[i] ^= 1 << rng.randrange(8)
    elif kind == "shape_bit":
        i = rng.choice(shape_positions(data)) + rng.randrange(4)
        buf[i] ^= 1 << rng.randrange(8)
    elif kind == "bytes":
        i, n = rng.randrange(len(buf)), rng.randint(1, 16)
        buf[i:i + n] = bytes(rng.randrange(256) for _ in range(len(buf[i:i + n])))
    else:  # cut
        del buf[rng.randrange(len(buf)):]
    return bytes(buf)


# The command as a user runs it, reporting its own peak resident memory on the way out.
# VmHWM is read in the child: the rusage a parent gets (wait4, RUSAGE_CHILDREN) also
# counts the parent's own peak, which Linux carries across fork and exec.
_MEASURED = """import sys
from tfmodels_edge.cli import main
try:
    code = main(sys.argv[2:])
finally:
    with open("/proc/self/status") as status, open(sys.argv[1], "w") as out:
        out.write(next(line for line in status if line.startswith("VmHWM")).split()[1])
sys.exit(code)
"""


def run_measured(args: list[str], env: dict, timeout: float, workdir: Path) -> tuple[int, str, float | None]:
    """``tfmodels-edge ARGS`` in a process of its own: exit status (-N: killed by signal N),
    stderr, and its peak resident memory in MB (None when it died before saying)."""
    report = workdir / "peak_rss_kb"
    report.unlink(missing_ok=True)
    try:
        proc = subprocess.run([sys.executable, "-c", _MEASURED, str(report), *args], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, env=env, timeout=timeout)
        code, stderr = proc.returncode, proc.stderr.decode("utf-8", "replace")
    except subprocess.TimeoutExpired as e:
        code, stderr = -9, (e.stderr or b"").decode("utf-8", "replace") + f"\n(killed after {timeout} s)"
    rss = int(report.read_text()) / 1024 if report.exists() and report.read_text().strip() else None
    return code, stderr, rss


def run(trials: int = 300, workdir=None, seed: int = 0, cap_mb: float | None = None) -> dict:
    """Damage ``trials`` copies of the seed models and run each; the result keys."""
    from tfmodels_edge.modelfile import memory_cap_mb

    cap = memory_cap_mb(cap_mb)
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    seeds = seed_models(workdir)
    x = workdir / "x.npy"
    from tfmodels_edge import EdgeModel

    detail = EdgeModel(seeds[0]).input_details[0]
    np.save(x, np.random.default_rng(0).uniform(0, 1, [max(int(n), 1) for n in detail["shape"]]).astype("float32"))
    rng = random.Random(seed)
    env = {**os.environ, "TFMODELS_EDGE_MAX_MEMORY_MB": str(cap), "PYTHONUNBUFFERED": "1"}
    crashes, peak, refused, answered, failures = 0, 0.0, 0, 0, []
    for trial in range(trials):
        source, kind = seeds[trial % len(seeds)], KINDS[trial % len(KINDS)]
        fuzzed = workdir / f"fuzzed{source.suffix}"
        fuzzed.write_bytes(damage(source.read_bytes(), kind, rng))
        code, stderr, rss = run_measured(["predict", str(fuzzed), "--input", str(x)], env, 120, workdir)
        peak = max(peak, rss or 0.0)
        if code not in (0, 2) or "Traceback" in stderr:
            crashes += 1
            (workdir / f"crash-{trial}{source.suffix}").write_bytes(fuzzed.read_bytes())  # kept to replay
            failures.append(f"trial {trial} ({source.name}, {kind}): exit {code}: {stderr.strip()[-300:]}")
        elif code == 2:
            refused += 1
        else:
            answered += 1
    return {"fuzzed_tflite_files": trials, "fuzz_crashes": crashes, "fuzz_refused": refused,
            "fuzz_answered": answered, "fuzz_peak_rss_mb": round(peak, 1), "fuzz_memory_cap_mb": cap,
            "failures": failures}
