"""Atomic writes: a file or directory appears whole under its final name, or not at all.

Temporary names sit beside the target (``.<name>.<random>.tmp``) so the final rename
stays on one file system, and they are created with the modes the umask gives, as
plain ``open``/``mkdir`` would (``tempfile``'s 0600/0700 would survive the rename and
lock a shared run folder to its creator).
"""
import contextlib
import hashlib
import json
import os
import secrets
import shutil
from pathlib import Path


def _temp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")


def atomic_write(path, data: bytes | str) -> Path:
    """Write ``data`` to a temp file beside ``path``, fsync, then rename over it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_name(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


def write_json(path, obj) -> Path:
    return atomic_write(path, json.dumps(obj, indent=2, default=jsonable) + "\n")


def jsonable(value):
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


@contextlib.contextmanager
def atomic_directory(path):
    """Yield a temp directory beside ``path``; on success it replaces ``path`` whole.

    If the body raises, the temp directory is removed and ``path`` is left untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_name(path)
    tmp.mkdir(0o777)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if path.exists():
        old = path.with_name(f".{path.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(path, old)
    os.replace(tmp, path)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def sha256_file(path) -> str:
    """The SHA-256 of a file's bytes (hex), read in 1 MB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
