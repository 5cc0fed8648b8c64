"""The PyTorch side of the benchmarks: a virtualenv of its own.

torch is pinned to the CPU build ``TORCH`` and installed *by name* through pip's
configured sources (index, extra indexes, find-links: whatever ``pip config`` says on
the machine), never from a path of one machine. ``python()`` creates the virtualenv on
first use; where torch cannot be installed it raises :class:`TorchUnavailable` with
pip's reason, and callers record that reason instead of a ratio.

The handoff to a reference script, both ends of it (this module imports nothing but the
standard library and, lazily, numpy, so the scripts import it too: they run as files
from this folder, which puts it on their path):

* :func:`run_json` runs a script once as ``script data.npz config.json`` and parses the
  last line it prints (the GPT reference, benchmarks/_gpt_torch.py);
* :class:`Worker` keeps a script running (``--serve``) and asks it one JSON request per
  line, so torch's steps can be timed in blocks alternating with TensorFlow's in the
  same minutes (benchmarks/_seq_torch.py, benchmarks/_vs_torch.py);
* :func:`read_inputs`, :func:`reply` and :func:`serve` are the script's side.
"""
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
TORCH = "torch==2.13.0+cpu"
VENV = HERE / ".torch-venv"  # git-ignored


class TorchUnavailable(RuntimeError):
    """torch could not be installed (or imported) in the reference virtualenv."""


class ReferenceFailed(RuntimeError):
    """A reference script exited or answered with an error (its stderr's tail included)."""


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


# -- the benchmark's side of the handoff ---------------------------------------------


def write_inputs(folder, arrays: dict, config: dict) -> list[str]:
    """``[data.npz, config.json]`` written into `folder`: what a reference script reads."""
    import numpy as np

    folder = Path(folder)
    np.savez(folder / "data.npz", **arrays)
    (folder / "config.json").write_text(json.dumps(config))
    return [str(folder / "data.npz"), str(folder / "config.json")]


def _last_json(text: str) -> dict:
    lines = [line for line in text.strip().splitlines() if line.startswith("{")]
    if not lines:
        raise ValueError("no JSON line")
    return json.loads(lines[-1])


def run_json(script, arrays: dict, config: dict, exe=None) -> dict:
    """Run `script` once in the torch virtualenv on `arrays` and `config`; its last
    JSON line, parsed. Raises :class:`TorchUnavailable` (no torch) or
    :class:`ReferenceFailed` (the script failed; its stderr's tail is in the message)."""
    exe = exe or python()
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run([str(exe), str(script), *write_inputs(tmp, arrays, config)],
                              capture_output=True, text=True)
    try:
        if done.returncode:
            raise ValueError(f"exit status {done.returncode}")
        return _last_json(done.stdout)
    except ValueError as e:
        raise ReferenceFailed(f"{Path(script).name}: {e}: {done.stderr.strip()[-800:]}") from None


class Worker:
    """A reference script kept running (``script data.npz config.json --serve``).

    ``ask(cmd, **args)`` sends ``{"cmd": ..., **args}`` as one line and returns the
    script's one-line JSON reply; a reply with ``"error"``, or a script that has exited,
    raises :class:`ReferenceFailed`. Use as a context manager (the script is stopped and
    its inputs removed on exit).
    """

    def __init__(self, script, arrays: dict, config: dict, exe=None):
        self.script = Path(script)
        self._tmp = tempfile.TemporaryDirectory()
        args = write_inputs(self._tmp.name, arrays, config)
        self._stderr = open(Path(self._tmp.name) / "stderr.txt", "w+")
        self.proc = subprocess.Popen([str(exe or python()), str(self.script), *args, "--serve"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
                                     text=True, bufsize=1)

    def ask(self, cmd: str, **args) -> dict:
        try:
            self.proc.stdin.write(json.dumps({"cmd": cmd, **args}) + "\n")
            self.proc.stdin.flush()
            while True:
                line = self.proc.stdout.readline()
                if not line:
                    raise ValueError(f"exited ({self.proc.wait()}) during {cmd!r}")
                if line.startswith("{"):
                    answer = json.loads(line)
                    break
        except (OSError, ValueError) as e:
            raise ReferenceFailed(f"{self.script.name}: {e}: {self._stderr_tail()}") from None
        if "error" in answer:
            raise ReferenceFailed(f"{self.script.name} {cmd!r}: {answer['error']}")
        return answer

    def _stderr_tail(self) -> str:
        self._stderr.flush()
        self._stderr.seek(0)
        return self._stderr.read().strip()[-800:]

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()  # the script's serve loop ends at end of input
                self.proc.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        self._stderr.close()
        self._tmp.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# -- the reference script's side -------------------------------------------------------


def read_inputs(argv=None) -> tuple:
    """``(arrays, config, serve)`` from a script's command line
    ``data.npz config.json [--serve]``."""
    import numpy as np

    argv = sys.argv[1:] if argv is None else argv
    data = np.load(argv[0])
    return {k: data[k] for k in data.files}, json.loads(Path(argv[1]).read_text()), "--serve" in argv[2:]


def reply(obj: dict):
    """One JSON line on stdout: what :func:`run_json` and :meth:`Worker.ask` read."""
    print(json.dumps(obj), flush=True)


def serve(handlers: dict, stdin=None):
    """Answer one JSON request per line of `stdin` until it ends: ``handlers[cmd](**args)``
    replied as JSON, or ``{"error": ...}`` (an unknown command, a failing handler)."""
    for line in stdin or sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        cmd = request.pop("cmd", None)
        try:
            if cmd not in handlers:
                raise KeyError(f"unknown command {cmd!r}; valid: {sorted(handlers)}")
            reply(handlers[cmd](**request))
        except Exception as e:  # the benchmark's side raises it with the message
            reply({"error": f"{type(e).__name__}: {e}"[:800]})


if __name__ == "__main__":  # python -m benchmarks._torch_env: create the venv, say what it holds
    ok, what = available()
    print(json.dumps({"torch_available": ok, "detail": what}))
    sys.exit(0 if ok else 1)
