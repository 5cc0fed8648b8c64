"""Helpers to run the real CLI in subprocesses, kill them, and read their JSON output."""
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

TRAIN = ["train", "mlp", "--data", "digits", "--batch-size", "32"]


class Running:
    """A subprocess whose output lines are collected as they arrive."""

    def __init__(self, args, env=None):
        self.lines: list[str] = []
        self.proc = subprocess.Popen([sys.executable, "-m", "tfmodels", *args], text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, bufsize=1,
                                     env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})})
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line)

    def wait(self, timeout=600) -> int:
        code = self.proc.wait(timeout=timeout)
        self.reader.join(timeout=10)
        return code

    @property
    def output(self) -> str:
        return "".join(self.lines)


def wait_for(predicate, timeout=300, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def checkpoint_saved(out: Path) -> bool:
    return (out / "checkpoints" / "checkpoint").exists()


def results(output: str) -> dict[str, dict]:
    """The final JSON object each process printed, by prefix ("" for a single process)."""
    found: dict[str, list[str]] = {}
    for line in output.splitlines():
        m = re.match(r"^(\[worker \d+\] )?(.*)$", line)
        found.setdefault(m.group(1) or "", []).append(m.group(2))
    out = {}
    for prefix, lines in found.items():
        text = "\n".join(lines)
        start = text.rfind("\n{\n")
        if start != -1:
            end = text.index("\n}", start) + 2
            out[prefix.strip()] = json.loads(text[start + 1:end])
    return out


@pytest.fixture
def kill():
    def _kill(pid):
        os.kill(pid, signal.SIGKILL)
    return _kill
