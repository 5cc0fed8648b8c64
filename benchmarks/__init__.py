"""Benchmarks: ``python -m benchmarks NAME`` runs ``benchmarks/NAME.py`` and writes
``benchmarks/results/NAME.json``; ``make bench`` runs them all and renders BENCHMARKS.md.

Each benchmark module defines ``run(data_dir) -> dict`` returning flat or nested
JSON-able figures; the runner adds the date, the machine and the wall time.
"""
