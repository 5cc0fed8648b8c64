"""Start a multi-worker job on this machine: ``tfmodels launch --workers 2 -- train ...``.

Each worker is ``python -m tfmodels <command...>`` with its own ``TF_CONFIG`` naming
all workers on free loopback ports, so ``strategy="auto"`` becomes
MultiWorkerMirroredStrategy. Output is streamed with a ``[worker i]`` prefix. If one
worker dies the others are stopped at once (a collective would otherwise wait for it
forever) and the launcher exits with that worker's status; running the same command
again resumes from the last epoch checkpoint.

On several hosts, run the same command on each host with TF_CONFIG set by hand (see
docs/distributed.md); this launcher is the single-host special case.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time


def free_ports(n: int, host: str = "127.0.0.1") -> list[int]:
    """``n`` distinct ports that were free a moment ago (held open together, then released)."""
    sockets = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind((host, 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def tf_configs(workers: int, host: str = "127.0.0.1") -> list[dict]:
    cluster = {"worker": [f"{host}:{p}" for p in free_ports(workers, host)]}
    return [{"cluster": cluster, "task": {"type": "worker", "index": i}} for i in range(workers)]


def _stream(proc, prefix: str):
    for line in proc.stdout:
        sys.stdout.write(f"{prefix} {line}")
        sys.stdout.flush()


def launch(workers: int, argv: list[str], *, host: str = "127.0.0.1", poll: float = 0.2) -> int:
    """Run ``tfmodels <argv>`` as ``workers`` processes; return 0 when all succeed."""
    if workers < 1:
        raise ValueError(f"--workers must be at least 1, given {workers}")
    procs, threads = [], []
    for i, config in enumerate(tf_configs(workers, host)):
        env = {**os.environ, "TF_CONFIG": json.dumps(config), "PYTHONUNBUFFERED": "1"}
        proc = subprocess.Popen([sys.executable, "-m", "tfmodels", *argv], env=env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, bufsize=1)
        print(f"[launch] worker {i} pid {proc.pid} at {config['cluster']['worker'][i]}", flush=True)
        t = threading.Thread(target=_stream, args=(proc, f"[worker {i}]"), daemon=True)
        t.start()
        procs.append(proc)
        threads.append(t)
    try:
        while True:
            codes = [p.poll() for p in procs]
            failed = [(i, c) for i, c in enumerate(codes) if c not in (None, 0)]
            if failed:
                i, code = failed[0]
                print(f"[launch] worker {i} exited with status {code}; stopping the others", flush=True)
                _stop(procs)
                return code if code > 0 else 128 - code
            if all(c == 0 for c in codes):
                return 0
            time.sleep(poll)
    except KeyboardInterrupt:
        _stop(procs)
        return 130
    finally:
        for t in threads:
            t.join(timeout=5)


def _stop(procs):
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    deadline = time.time() + 10
    for p in procs:
        try:
            p.wait(timeout=max(0.1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            p.kill()
