"""Fault injection and misuse through the real CLI: kills, corrupted files, wrong commands.

    python -m benchmarks reliability     # -> benchmarks/results/reliability.json

- **Kills.** ``tfmodels train`` and ``tfmodels export`` are started on one run folder
  again and again and SIGKILLed at seeded random moments (each start is also the rerun
  of the one killed before it). After every kill the folder must hold one generation
  (:func:`mixed_generation`); a last uninterrupted run must finish with the requested
  epochs and no temporary files.
- **Corruptions.** Each file of a finished, exported run is truncated, emptied or has
  one bit flipped, in a copy of the run; the command that reads it (``eval``, or
  ``train`` with one more epoch for checkpoints) must then fall back (same answer, or a
  warning naming the damage) or print one ``error:`` line with exit 2 — never a
  traceback, never a different answer without a word.
- **Misuse.** Every ordinary mistake, and every registered model paired with a dataset
  of the wrong kind, must exit 2 with one ``error:`` line and no traceback.
- **Every model** trains one epoch from the CLI on its default dataset and evaluates,
  or says which Python call trains it.
- **Fuzzed .tflite files** for the edge kit (:mod:`benchmarks._fuzz`).

The test suite runs the same functions with fewer trials (tests/reliability/).
"""
import contextlib
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import benchmarks
from tfmodels.rundir import REPORT, RunDir, digests

TRAIN = ["train", "mlp", "--data", "digits", "--batch-size", "64", "--epochs", "3"]
EXPORT_MODES = "float32,int8"


def cli(args, timeout=600) -> subprocess.CompletedProcess:
    """``tfmodels ARGS`` in a fresh process (what a user types)."""
    return subprocess.run([sys.executable, "-m", "tfmodels", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "PYTHONUNBUFFERED": "1"})


def in_process(args) -> tuple[int, str, str]:
    """``tfmodels ARGS`` inside this process: exit code, stdout, stderr (a traceback
    shows as an exception escaping ``main``, caught here and returned as text; Python
    warnings are part of stderr, as in a process of its own)."""
    from tfmodels import cli as tfm_cli

    import warnings

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
            warnings.catch_warnings(record=True) as caught:
        # every warning, each time (a process shows each once; this one runs many commands)
        warnings.simplefilter("always")
        try:
            code = tfm_cli.main(args)
        except SystemExit as e:  # argparse
            code = e.code if isinstance(e.code, int) else 2
        except Exception as e:  # noqa: BLE001  (exactly what must not happen)
            import traceback

            err.write("Traceback (most recent call last):\n" + "".join(traceback.format_exception(e)))
            code = 1
    shown = "".join(f"{w.category.__name__}: {w.message}\n" for w in caught
                    if not issubclass(w.category, DeprecationWarning))
    return code, out.getvalue(), shown + err.getvalue()


def one_error_line(code: int, stderr: str) -> bool:
    """Exit 2, no traceback, and an ``error:`` line."""
    lines = [ln for ln in stderr.splitlines() if ln.startswith("error:") or ": error:" in ln]
    return code == 2 and "Traceback" not in stderr and len(lines) == 1


# -- one generation -----------------------------------------------------------------

def temp_leftovers(run: RunDir) -> list[str]:
    return [str(p) for p in run.path.rglob("*") if p.name.endswith((".tmp", ".old")) or "_temp" in p.name]


def mixed_generation(run: RunDir) -> str | None:
    """Why the folder does not hold one consistent generation, or None when it does."""
    if not run.metrics_file.exists():
        return "export present without a finished training" if run.report_file.exists() else None
    metrics, config = run.metrics(), run.config()
    if config and metrics.get("run_id") != config.get("run_id"):
        return "metrics.json and config.json are of different runs"
    if digests(run.saved_model) != metrics.get("saved_model_sha256"):
        return "the SavedModel is not the one metrics.json describes"
    if run.export_dir.exists() or run.export_dir.is_symlink():
        if not run.report_file.exists():
            return "an export folder without its report"
        report = json.loads(run.report_file.read_text())
        if report.get("run_id") != metrics.get("run_id"):
            return "the export is of another training"
        files = digests(run.export_dir)
        files.pop(REPORT)
        if files != report["files"]:
            return "the export's files are not the ones its report lists"
    return None


def kill_trials(command: list[str], run_dir: Path, trials: int, seed: int, *, setup=None) -> dict:
    """Start ``command`` ``trials`` times on ``run_dir``, SIGKILL each at a random moment,
    check the folder after each kill, then run it to the end and check the result."""
    rng = random.Random(seed)
    run = RunDir(run_dir)
    start = time.perf_counter()
    full = cli(command)  # how long one uninterrupted run takes (and a first generation)
    duration = time.perf_counter() - start
    failures, mixed = [], 0
    for trial in range(trials):
        if setup:
            setup(trial)
        proc = subprocess.Popen([sys.executable, "-m", "tfmodels", *command], stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        time.sleep(rng.uniform(0.2, 1.0) * duration)
        proc.send_signal(signal.SIGKILL)
        _, stderr = proc.communicate()
        if proc.returncode not in (0, -signal.SIGKILL):
            failures.append(f"trial {trial}: exit {proc.returncode}: {stderr[-300:]}")
        problem = mixed_generation(run)
        if problem:
            mixed += 1
            failures.append(f"trial {trial}: {problem}")
    final = cli(command)
    if final.returncode != 0 or "Traceback" in final.stderr:
        failures.append(f"final run: exit {final.returncode}: {final.stderr[-500:]}")
    elif mixed_generation(run) or temp_leftovers(run):
        failures.append(f"final run: {mixed_generation(run) or temp_leftovers(run)}")
    return {"trials": trials, "failed": len(failures), "mixed_generations": mixed, "failures": failures,
            "first_run_ok": full.returncode == 0, "seconds_per_run": round(duration, 1)}


def train_kills(workdir: Path, trials: int, seed: int = 0) -> dict:
    """Kill ``train`` at random moments; every third trial asks for one more epoch."""
    out = workdir / "train_kills"
    command = [*TRAIN, "--out", str(out)]
    at = command.index("--epochs") + 1

    def setup(trial):
        if trial % 3 == 2:
            command[at] = str(int(command[at]) + 1)

    result = kill_trials(command, out, trials, seed, setup=setup)
    want = int(command[at])
    metrics = RunDir(out).metrics() if RunDir(out).metrics_file.exists() else {}
    if metrics.get("epochs") != want or any(len(v) != want for v in metrics.get("history", {}).values()):
        result["failed"] += 1
        result["failures"].append(f"final metrics: epochs {metrics.get('epochs')} (asked {want}), "
                                  f"history lengths {[len(v) for v in metrics.get('history', {}).values()]}")
    return result


def export_kills(workdir: Path, trials: int, seed: int = 1) -> dict:
    """Kill ``export`` at random moments on a trained run (an earlier export in place)."""
    out = workdir / "export_kills"
    if cli([*TRAIN, "--out", str(out)]).returncode != 0:
        raise RuntimeError("could not train the run to export")
    return kill_trials(["export", str(out), "--quant", EXPORT_MODES], out, trials, seed)


# -- corruptions ----------------------------------------------------------------------

def corrupt(path: Path, how: str, rng: random.Random):
    data = bytearray(path.read_bytes())
    if how == "truncate":
        path.write_bytes(bytes(data[: len(data) // 2]))
    elif how == "empty":
        path.write_bytes(b"")
    elif data:  # flip one bit
        i = rng.randrange(len(data))
        data[i] ^= 1 << rng.randrange(8)
        path.write_bytes(bytes(data))


KINDS = ("truncate", "empty", "flip")


def corruption_matrix(workdir: Path, seed: int = 0, kinds: int = len(KINDS), repeats: int = 1) -> dict:
    """Damage each file of a finished, exported run (in a copy) and run the command reading it.

    ``kinds``: how many of truncate / empty / flip each file gets (fewer: taken in turn
    across the files); ``repeats``: that many times each (bit flips land elsewhere)."""
    rng = random.Random(seed)
    base = workdir / "corrupt_base"
    for args in ([*TRAIN, "--out", str(base)], ["export", str(base), "--quant", EXPORT_MODES]):
        if cli(args).returncode != 0:
            raise RuntimeError(f"could not prepare the run: {args}")
    run = RunDir(base)
    expected = in_process(["eval", str(base)])
    files = [p.relative_to(base) for p in sorted(base.rglob("*"))
             if p.is_file() and not p.is_symlink() and run.logs not in p.parents and p.name != ".lock"]
    tried = tracebacks = silent = 0
    failures = []
    for n, rel in enumerate(files):
        for how in [KINDS[(n + k) % len(KINDS)] for k in range(kinds)] * repeats:
            copy = workdir / "corrupt_case"
            shutil.rmtree(copy, ignore_errors=True)
            shutil.copytree(base, copy, symlinks=True)
            corrupt(copy / rel, how, rng)
            tried += 1
            reads_checkpoint = rel.parts[0] == "checkpoints"
            if reads_checkpoint:  # resuming reads them: one more epoch than finished
                args = [*TRAIN[:-1], "4", "--out", str(copy)]
            else:
                args = ["eval", str(copy)]
            code, stdout, stderr = in_process(args)
            if "Traceback" in stderr or code not in (0, 2):
                tracebacks += 1
                failures.append(f"{rel} {how}: exit {code}: {stderr[-400:]}")
            elif code == 0 and not reads_checkpoint and _answers(stdout) != _answers(expected[1]):
                silent += 1
                failures.append(f"{rel} {how}: a different answer without a word")
            elif code == 0 and reads_checkpoint and _newest_checkpoint(run, rel) and "damaged" not in stderr:
                silent += 1
                failures.append(f"{rel} {how}: resumed a damaged checkpoint without a warning")
            elif code == 2 and not one_error_line(code, stderr):
                tracebacks += 1
                failures.append(f"{rel} {how}: exit 2 without one error line: {stderr[-300:]}")
    shutil.rmtree(workdir / "corrupt_case", ignore_errors=True)
    return {"files": len(files), "corruptions_tried": tried, "corruption_tracebacks": tracebacks,
            "corruption_silent_wrong": silent, "failures": failures}


def _answers(stdout: str):
    try:
        found = json.loads(stdout)
    except json.JSONDecodeError:
        return stdout
    return {k: v for k, v in found.items() if k != "run"}


def _newest_checkpoint(run: RunDir, rel: Path) -> bool:
    from tfmodels.train.checkpoints import checkpoint_paths

    newest = Path(checkpoint_paths(run.checkpoints)[-1]).name
    return rel.name.startswith(newest + ".")


# -- misuse ---------------------------------------------------------------------------

def misuse_commands(workdir: Path) -> list[list[str]]:
    """Ordinary mistakes, each a full command line."""
    a_file = workdir / "a_file.txt"
    a_file.write_text("not a folder\n")
    not_a_run = workdir / "not_a_run"
    not_a_run.mkdir(exist_ok=True)
    run = workdir / "misuse_run"
    out = str(workdir / "misuse_out")
    return [
        ["train", "seed_cnn", "--data", "cora", "--out", out],
        ["train", "gin", "--data", "digits", "--out", out],
        ["train", "gcn", "--data", "cora", "--strategy", "quantum", "--out", out],
        ["train", "gpt", "--data", "usps", "--out", out],
        ["train", "lstm", "--data", "digits", "--out", out],
        ["train", "nosuchmodel", "--data", "digits", "--out", out],
        ["train", "mlp", "--data", "nosuchdata", "--out", out],
        ["train", "mlp", "--data", "digits", "--epochs", "0", "--out", out],
        ["train", "mlp", "--data", "digits", "--epochs", "-3", "--out", out],
        ["train", "mlp", "--data", "digits", "--batch-size", "0", "--out", out],
        ["train", "mlp", "--data", "digits", "--learning-rate", "nan", "--out", out],
        ["train", "mlp", "--data", "digits", "--learning-rate", "inf", "--out", out],
        ["train", "mlp", "--data", "digits", "--learning-rate", "-0.1", "--out", out],
        ["train", "mlp", "--data", "digits", "--strategy", "tpu", "--out", out],
        ["train", "mlp", "--data", "digits", "--strategy", "quantum", "--out", out],
        ["train", "mlp", "--data", "digits", "--optimizer", "nosuchopt", "--out", out],
        ["train", "mlp", "--data", "digits", "--out", str(a_file)],
        ["train", "mlp", "--data", "digits", "--out", "/proc/tfmodels-run"],
        ["train", "mlp", "--data", "usps", "--data-dir", str(workdir / "nowhere"), "--out", out],
        ["train", "mlp", "--data", "digits", "--epochs", "2", "--learning-rate", "0.01", "--out", str(run)],
        ["train", "mlp", "--data", "digits", "--epochs", "1", "--out", str(run)],
        ["export", str(workdir / "nowhere")],
        ["export", str(not_a_run)],
        ["export", str(a_file)],
        ["export", str(run), "--quant", "int4"],
        ["export", str(run), "--quant", ","],
        ["eval", str(workdir / "nowhere")],
        ["eval", str(not_a_run)],
        ["train"],
        ["nosuchcommand"],
        *own_data_mistakes(workdir, out),
    ]


def own_data_mistakes(workdir: Path, out: str) -> list[list[str]]:
    """Mistakes with the user's own files: each a small bad file or folder made here."""
    import numpy as np
    from PIL import Image

    own = workdir / "own"
    table = own / "table.csv"
    own.mkdir(exist_ok=True)
    table.write_text("size,colour,label\n1.0,red,a\n2.0,blue,b\n3.0,,a\n")
    (own / "ragged.csv").write_text("x,y\n1,2\n3\n")
    (own / "header_only.csv").write_text("x,y\n")
    (own / "latin1.csv").write_bytes("x,y\n1,caf\xe9\n".encode("latin-1"))
    rng = np.random.default_rng(0)
    for folder, classes in (("one_class", ["a"]), ("broken", ["a", "b"]), ("no_images", ["a", "b"])):
        for name in classes:
            (own / folder / name).mkdir(parents=True, exist_ok=True)
            if folder != "no_images":
                Image.fromarray(rng.integers(0, 255, (8, 8), dtype=np.uint8)).save(own / folder / name / "0.png")
            else:
                (own / folder / name / "notes.txt").write_text("not an image\n")
    (own / "broken" / "b" / "1.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    (own / "nodes.csv").write_text("id,f,label\na,1,x\nb,2,y\nc,3,x\nd,4,y\n")
    (own / "edges.csv").write_text("source,target\na,b\nb,zed\n")              # zed: no such node
    (own / "TU_BAD").mkdir(exist_ok=True)
    for part, text in (("A", "1, 2\n2, 9\n"), ("graph_indicator", "1\n1\n2\n"), ("graph_labels", "0\n1\n")):
        (own / "TU_BAD" / f"TU_BAD_{part}.txt").write_text(text)             # an edge to node 9 of 3
    train = lambda model, *args: ["train", model, *args, "--out", out]  # noqa: E731
    return [
        train("mlp", "--data", str(table)),                                    # how to read it?
        train("mlp", "--data", str(table), "--target", "nosuchcolumn"),
        train("mlp", "--data", str(table), "--target", "label"),               # text as a feature
        train("mlp", "--data", str(table), "--target", "label", "--image-size", "32x32"),
        train("mlp", "--data", str(own / "ragged.csv"), "--target", "y"),
        train("mlp", "--data", str(own / "header_only.csv"), "--target", "y"),
        train("mlp", "--data", str(own / "latin1.csv"), "--target", "y"),
        train("lstm", "--data", str(table), "--text-column", "colour"),         # no --target
        train("rnn_forecaster", "--data", str(table), "--column", "size", "--window", "24"),
        train("seed_cnn", "--data", str(own / "one_class")),
        train("seed_cnn", "--data", str(own / "broken")),
        train("seed_cnn", "--data", str(own / "no_images")),
        train("gcn", "--data", str(own / "nodes.csv"), "--edges", str(own / "edges.csv"), "--target", "label"),
        train("gcn", "--data", str(own / "nodes.csv"), "--edges", str(own / "none.csv"), "--target", "label"),
        train("gcn", "--data", str(own / "nodes.csv"), "--edges", str(own / "edges.csv")),  # no --target
        train("gin", "--data", str(own / "TU_BAD")),
        train("gin", "--data", str(own / "TU_BAD"), "--image-size", "8x8"),
        train("seed_cnn", "--data", str(own / "one_class"), "--image-size", "big"),
        train("seed_cnn", "--data", str(own / "one_class"), "--target", "label"),
        train("seed_cnn", "--data", str(own / "nowhere") + "/"),
        train("mlp", "--data", "digits", "--target", "label"),                 # options, registered data
    ]


def wrong_pairs() -> list[list[str]]:
    """Every registered model with bundled datasets of another kind than its default's."""
    import tfmodels
    from tfmodels.data import load_splits
    from tfmodels.registry import input_kind

    bundled = {name: load_splits(name) for name in ("digits", "co2", "karate")}
    kinds = {name: (input_kind(s), s.info.task) for name, s in bundled.items()}
    pairs = []
    for spec in tfmodels.list_models():
        if spec.default_data is None:
            continue
        try:
            default = load_splits(spec.default_data)
        except tfmodels.DataError:
            continue
        accepted = ({(i, t) for i in spec.inputs for t in spec.tasks or ("classification",)}
                    or {(input_kind(default), default.info.task)})
        pairs += [["train", spec.name, "--data", name, "--out", "/nonexistent-never-written"]
                  for name, kind in kinds.items() if kind not in accepted]
    return pairs


def misuse_matrix(workdir: Path, with_pairs: bool = True, workers: int = 2) -> dict:
    """Every misuse must exit 2 with one error line and write nothing.

    The listed mistakes run through the real CLI (``python -m tfmodels``, ``workers``
    at a time); the wrong model/dataset pairs, many more, in this process through the
    same ``tfmodels.cli.main``."""
    from concurrent.futures import ThreadPoolExecutor

    run = workdir / "misuse_run"
    if not RunDir(run).is_finished():
        code, _, err = in_process(["train", "mlp", "--data", "digits", "--epochs", "2", "--out", str(run)])
        if code:
            raise RuntimeError(f"could not prepare the misuse run: {err[-500:]}")
    commands = misuse_commands(workdir)
    with ThreadPoolExecutor(workers) as pool:
        answers = [(p.returncode, p.stderr) for p in pool.map(cli, commands)]
    if with_pairs:
        pairs = wrong_pairs()
        commands += pairs
        answers += [in_process(args)[::2] for args in pairs]
    tracebacks = wrong_exit = 0
    failures = []
    for args, (code, stderr) in zip(commands, answers):
        if "Traceback" in stderr:
            tracebacks += 1
            failures.append(f"{' '.join(args)}: traceback: {stderr[-400:]}")
        elif not one_error_line(code, stderr):
            wrong_exit += 1
            failures.append(f"{' '.join(args)}: exit {code}: {stderr[-300:]}")
    written = [p for p in (Path("/nonexistent-never-written"), workdir / "misuse_out") if p.exists()]
    if written:
        wrong_exit += 1
        failures.append(f"a refused command wrote {written}")
    return {"misuse_commands": len(commands), "misuse_tracebacks": tracebacks,
            "misuse_wrong_exit": wrong_exit, "failures": failures}


def every_model(workdir: Path) -> dict:
    """``tfmodels train NAME --epochs 1`` for every registered model on its default
    dataset, then ``tfmodels eval``: each trains and evaluates, or (models that train
    outside ``tfmodels.train.fit``) says in one line which call to use."""
    import tfmodels

    trained, pointed, failures = [], [], []
    for spec in tfmodels.list_models():
        out = str(workdir / "models" / spec.name)
        code, _, err = in_process(["train", spec.name, "--epochs", "1", "--batch-size", "64", "--out", out])
        if code == 2 and spec.trained_with and one_error_line(code, err):
            pointed.append(spec.name)
            continue
        if code == 0:
            code, _, err = in_process(["eval", out])
        if code == 0:
            trained.append(spec.name)
        else:
            failures.append(f"{spec.name}: exit {code}: {err[-300:]}")
        shutil.rmtree(out, ignore_errors=True)
    return {"models_trained_and_evaluated": len(trained), "models_pointing_to_their_call": len(pointed),
            "models_failed": len(failures), "failures": failures}


PARTS = ("kills", "corruption", "misuse", "models", "fuzz")


def run(data_dir=None, *, kills: int = 50, fuzz_trials: int = 300) -> dict:
    """Every part at full size; ``TFMODELS_BENCH_ONLY=corruption,misuse`` reruns those and
    keeps the others' figures, each part dated with the commit it measured."""
    os.environ.setdefault("TFMODELS_DATA_DIR", str(data_dir or ""))
    from benchmarks import _fuzz as fuzz

    only = benchmarks.only(PARTS)
    previous = benchmarks.previous("reliability") if only else {}
    previous.pop("_meta", None)
    out, failures, seconds = dict(previous), dict(previous.get("failures_by_part", {})), {}
    want = [p for p in PARTS if not only or p in only]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if "kills" in want:
            with benchmarks.timed(seconds, "kills"):
                train, export = train_kills(work, kills), export_kills(work, kills)
                out |= {"train_kill_trials": train["trials"], "export_kill_trials": export["trials"],
                        "kill_trials_failed": train["failed"] + export["failed"],
                        "mixed_generations": train["mixed_generations"] + export["mixed_generations"],
                        "seconds_per_train_run": train["seconds_per_run"],
                        "seconds_per_export_run": export["seconds_per_run"]}
                failures["kills"] = train["failures"] + export["failures"]
        if "corruption" in want:
            with benchmarks.timed(seconds, "corruption"):
                corruption = corruption_matrix(work, repeats=4)
                out |= {k: corruption[k] for k in ("corruptions_tried", "corruption_tracebacks",
                                                    "corruption_silent_wrong")}
                failures["corruption"] = corruption["failures"]
        if "misuse" in want:
            with benchmarks.timed(seconds, "misuse"):
                misuse = misuse_matrix(work)
                out |= {k: misuse[k] for k in ("misuse_commands", "misuse_tracebacks", "misuse_wrong_exit")}
                failures["misuse"] = misuse["failures"]
        if "models" in want:
            with benchmarks.timed(seconds, "models"):
                models = every_model(work)
                out |= {k: v for k, v in models.items() if k != "failures"}
                failures["models"] = models["failures"]
        if "fuzz" in want:
            with benchmarks.timed(seconds, "fuzz"):
                fuzzed = fuzz.run(trials=fuzz_trials, workdir=work / "fuzz")
                out |= {k: fuzzed.get(k) for k in ("fuzzed_tflite_files", "fuzz_crashes", "fuzz_peak_rss_mb",
                                                     "fuzz_memory_cap_mb")}
    out["failures_by_part"] = failures
    out["failures"] = [f for part in PARTS for f in failures.get(part, [])]
    out["sections"] = benchmarks.sections(previous, want, seconds=seconds)
    return out
