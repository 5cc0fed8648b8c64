"""Run one named benchmark (or ``all``) and write its results JSON."""
import argparse
import importlib
import json
import os
import pkgutil
import platform
import sys
import time
from pathlib import Path

import benchmarks

RESULTS = Path(__file__).parent / "results"
HERE_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SETTINGS = ("TFMODELS_BENCH_CONFIG", "TFMODELS_BENCH_ONLY", "GNN_BENCH_QUICK")  # recorded in the command


def available() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__)
                  if not m.name.startswith("_") and m.name != "render")


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def run_one(name: str, data_dir: str) -> dict:
    module = importlib.import_module(f"benchmarks.{name}")
    version, start = benchmarks.commit(), time.perf_counter()  # the code measured, before anything can change it
    results = module.run(data_dir)
    results["_meta"] = {
        "benchmark": name,
        "date": benchmarks.now(),
        "machine": machine(),
        "commit": version,
        "wall_seconds": round(time.perf_counter() - start, 1),
        "command": " ".join([*(f"{k}={os.environ[k]}" for k in SETTINGS if os.environ.get(k)),
                             f"python -m benchmarks {name}"]),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    tmp = RESULTS / f".{name}.json.tmp"
    tmp.write_text(json.dumps(results, indent=2, default=float) + "\n")
    tmp.replace(RESULTS / f"{name}.json")
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("name", help=f"one of: {', '.join(available())}, or all")
    parser.add_argument("--data-dir", default=os.environ.get("TFMODELS_DATA_DIR", str(HERE_DATA)))
    args = parser.parse_args(argv)
    names = available() if args.name == "all" else [args.name]
    for name in names:
        if name not in available():
            sys.exit(f"error: unknown benchmark {name!r}; valid: {', '.join(available())}")
        os.environ.setdefault("TFMODELS_DATA_DIR", args.data_dir)
        print(f"== benchmark {name}", flush=True)
        results = run_one(name, args.data_dir)
        print(json.dumps({k: v for k, v in results.items() if not isinstance(v, (dict, list))}, indent=2, default=float))


if __name__ == "__main__":
    main()
