"""The PyTorch side of the benchmarks: a virtualenv of its own.

torch is pinned to the CPU build ``TORCH`` and installed *by name* through pip's
configured sources (index, extra indexes, find-links: whatever ``pip config`` says on
the machine), never from a path of one machine. ``python()`` creates the virtualenv on
first use; where torch cannot be installed it raises :class:`TorchUnavailable` with
pip's reason, and callers record that reason instead of a ratio.
"""
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TORCH = "torch==2.13.0+cpu"
VENV = HERE / ".torch-venv"  # git-ignored


class TorchUnavailable(RuntimeError):
    """torch could not be installed (or imported) in the reference virtualenv."""


def python(venv: Path = VENV, extra=("numpy",)) -> Path:
    """The interpreter of `venv` with ``TORCH`` and `extra` installed, created if missing."""
    venv = Path(venv)
    exe = venv / "bin" / "python"
    stamp = venv / ".installed"
    wanted = " ".join([TORCH, *extra])
    if exe.exists() and stamp.exists() and stamp.read_text().strip() == wanted:
        return exe
    try:
        if not exe.exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, text=True)
        subprocess.run([str(exe), "-m", "pip", "install", "-q", TORCH, *extra], check=True,
                       capture_output=True, text=True)
        check = subprocess.run([str(exe), "-c", "import torch; print(torch.__version__)"], check=True,
                               capture_output=True, text=True)
    except subprocess.CalledProcessError as e:
        raise TorchUnavailable(f"could not install {wanted} into {venv.name}: "
                               f"{(e.stderr or e.stdout or '').strip()[-400:]}") from e
    stamp.write_text(wanted + "\n")
    print(f"[torch_env] {venv.name}: torch {check.stdout.strip()}", file=sys.stderr, flush=True)
    return exe


def available(venv: Path = VENV) -> tuple[bool, str]:
    """``(True, version)`` when torch installs, else ``(False, why)``."""
    try:
        exe = python(venv)
    except TorchUnavailable as e:
        return False, str(e)
    out = subprocess.run([str(exe), "-c", "import torch; print(torch.__version__)"], capture_output=True, text=True)
    return True, out.stdout.strip()


if __name__ == "__main__":  # python -m benchmarks._torch_env: create the venv, say what it holds
    ok, what = available()
    print(json.dumps({"torch_available": ok, "detail": what}))
    sys.exit(0 if ok else 1)
