"""Benchmarks: ``python -m benchmarks NAME`` runs ``benchmarks/NAME.py`` and writes
``benchmarks/results/NAME.json``; ``make bench`` runs them all and renders BENCHMARKS.md.

Each benchmark module defines ``run(data_dir) -> dict`` returning flat or nested
JSON-able figures; the runner adds the date, the machine and the wall time.

Long benchmarks remeasure parts of themselves: ``TFMODELS_BENCH_ONLY=a,b`` names the
sections (or models) to run again; the figures of the others are kept from the last
results file, and each part records the date it was measured, the commit and how long
it took. ``vs_torch`` names every
section of a benchmark that measures it beside a PyTorch reference (``*_vs_torch``), so
``TFMODELS_BENCH_ONLY=vs_torch`` runs just those comparisons.
"""
import contextlib
import functools
import json
import os
import re
import subprocess
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


VS_TORCH = "vs_torch"  # the group of the *_vs_torch sections


def only(valid) -> set[str]:
    """The parts named in ``TFMODELS_BENCH_ONLY`` (empty: run everything), ``vs_torch``
    standing for every ``*_vs_torch`` part of `valid`; unknown names raise."""
    named = set(filter(None, os.environ.get("TFMODELS_BENCH_ONLY", "").split(",")))
    group = {v for v in valid if v.endswith("_" + VS_TORCH)}
    if VS_TORCH in named and group:
        named = (named - {VS_TORCH}) | group
    if named - set(valid):
        choices = [*valid, VS_TORCH] if group else list(valid)
        raise ValueError(f"TFMODELS_BENCH_ONLY: unknown {sorted(named - set(valid))}; valid: {choices}")
    return named


@functools.cache
def commit() -> str:
    """The checkout's commit, with ``+dirty`` when tracked files differ from it (figures are
    dated by it). Asked once per process, when a run starts: the code it measures, even if
    the checkout moves on while it runs."""
    root = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "diff", "--quiet", "HEAD", "--"], cwd=root).returncode != 0
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def now() -> str:
    """The UTC minute, as every results file writes dates."""
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())


def sections(previous: dict, parts, label: str = "", seconds: dict | None = None) -> dict:
    """``previous["sections"]`` with each of `parts` stamped now with the checkout's commit
    (and `label`, e.g. its config) and, where `seconds` has it, how long the part took:
    "2026-12-05 01:10 UTC (full, commit abc1234, 812 s)"."""
    head, seconds = f"{now()} ({label + ', ' if label else ''}commit {commit()}", seconds or {}
    stamps = {p: f"{head}, {seconds[p]:.0f} s)" if p in seconds else f"{head})" for p in parts}
    return {**previous.get("sections", {}), **stamps}


def part_seconds(stamp: str) -> float | None:
    """The seconds a :func:`sections` stamp records (None for stamps without them)."""
    found = re.search(r", (\d+) s\)$", stamp)
    return float(found.group(1)) if found else None


@contextlib.contextmanager
def timed(seconds: dict, part: str):
    """``with timed(seconds, "gpt"): ...`` stores the block's wall time in ``seconds["gpt"]``."""
    start = time.perf_counter()
    try:
        yield
    finally:
        seconds[part] = round(time.perf_counter() - start, 1)


def with_commit(stamp: str, meta: dict) -> str:
    """A part's stamp with the commit of the run that ``meta`` describes, where the part
    was measured in that run and its stamp does not name a commit yet."""
    if "commit" in stamp or not meta.get("commit") or stamp[:20].strip() != meta.get("date"):
        return stamp
    return f"{stamp[:-1]}, commit {meta['commit']})" if stamp.endswith(")") else f"{stamp} (commit {meta['commit']})"


def previous(name: str) -> dict:
    """The last ``results/NAME.json`` (empty if none), its ``_meta`` included; the parts
    its run measured carry that run's commit, so that a partial rerun keeps it."""
    path = RESULTS / f"{name}.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    if "sections" in data:
        data["sections"] = {p: with_commit(s, data.get("_meta", {})) for p, s in data["sections"].items()}
    return data
