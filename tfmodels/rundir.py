"""A run folder, and the one module that knows its layout.

    runs/seed_cnn/
      config.json         every argument of the run, its data source, class names, versions
      vocab.json          the token table of a text model's data (text runs only)
      metrics.json        written last by training: the run is finished once it exists
      checkpoints/        epoch checkpoints and history.json (a killed run resumes from them)
      logs/               TensorBoard
      saved_model/        the trained Keras model
      exports/<id>/       export generations: model_<mode>.tflite, export_report.json,
                          labels.txt, vocab.json (what a device needs beside the .tflite)
      tflite -> exports/<id>   the current generation, a symlink swapped in one rename
      .lock               held while a command writes the folder

Trainer, export, eval, zoo, app and benchmarks ask this module for paths; nothing else
spells them. Every artifact is written aside and renamed into place, so a command
killed at any moment leaves the previous complete state; the leftovers are removed by
the next command that takes the lock (:meth:`RunDir.clean`).

Integrity: ``metrics.json`` records the SHA-256 of every SavedModel file and each
export generation's report records the SHA-256 of its files and the ``run_id`` of the
training it came from, so a damaged or mixed file is refused before use
(:meth:`RunDir.verify_saved_model`, :meth:`RunDir.export_files`).
"""
import contextlib
import datetime
import errno
import fcntl
import hashlib
import json
import os
import platform
import shutil
import socket
import sys
import uuid
from pathlib import Path

from tfmodels.errors import DataError, TfmodelsError
from tfmodels.files import atomic_write, jsonable, sha256_file, write_json

CONFIG, METRICS, LOCK = "config.json", "metrics.json", ".lock"
CHECKPOINTS, LOGS, SAVED_MODEL = "checkpoints", "logs", "saved_model"
EXPORTS, CURRENT_EXPORT, REPORT = "exports", "tflite", "export_report.json"
LABELS, VOCABULARY, HISTORY = "labels.txt", "vocab.json", "history.json"

# Config keys that may change between a run and its resumption: how it runs, not what.
RUNTIME_KEYS = ("epochs", "strategy", "jit_compile", "data_dir", "versions", "run_id", "created",
                "command", "verbose")


class RunLockedError(TfmodelsError):
    """Another live process holds the run folder's lock."""


class ConfigMismatchError(TfmodelsError):
    """A run folder holds a run of other arguments than the ones given."""


def versions() -> dict:
    """Versions of the packages a run depends on (recorded in config.json)."""
    from importlib import metadata

    found = {"python": platform.python_version()}
    for name in ("tfmodels", "tensorflow", "tf-keras", "tensorflow-gnn"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def digests(folder) -> dict:
    """``{relative path: sha256}`` of every file below ``folder``."""
    folder = Path(folder)
    return {p.relative_to(folder).as_posix(): sha256_file(p)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def config_digest(config: dict) -> str:
    """SHA-256 of what a config says about the run (runtime keys such as the command left out)."""
    kept = {k: v for k, v in config.items() if k not in RUNTIME_KEYS}
    return hashlib.sha256(json.dumps(kept, sort_keys=True, default=str).encode()).hexdigest()


def _read_json(path: Path) -> dict:
    try:
        value = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise DataError(f"{path} is damaged (not valid JSON: {e}); retrain with --overwrite") from e
    if not isinstance(value, dict):
        raise DataError(f"{path} is damaged (expected a JSON object)")
    return value


def differences(old: dict, new: dict) -> list[str]:
    """Keys (dotted for nested dicts) whose values differ, runtime keys left out."""
    out = []
    for key in sorted((set(old) | set(new)) - set(RUNTIME_KEYS)):
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            out += [f"{key}.{k}" for k in differences(a, b)]
        elif a != b:
            out.append(key)
    return out


class RunDir:
    """One run folder: its paths, its config and metrics, its lock and its export generations."""

    def __init__(self, path):
        self.path = Path(path)

    def __repr__(self):
        return f"RunDir({str(self.path)!r})"

    # -- paths -----------------------------------------------------------------------
    config_file = property(lambda self: self.path / CONFIG)
    metrics_file = property(lambda self: self.path / METRICS)
    checkpoints = property(lambda self: self.path / CHECKPOINTS)
    history_file = property(lambda self: self.path / CHECKPOINTS / HISTORY)
    logs = property(lambda self: self.path / LOGS)
    saved_model = property(lambda self: self.path / SAVED_MODEL)
    exports = property(lambda self: self.path / EXPORTS)
    vocabulary_file = property(lambda self: self.path / VOCABULARY)
    export_dir = property(lambda self: self.path / CURRENT_EXPORT)  # the current generation

    @property
    def report_file(self) -> Path:
        return self.export_dir / REPORT

    # -- reading ---------------------------------------------------------------------
    def is_run(self) -> bool:
        return self.config_file.exists() or self.metrics_file.exists()

    def require(self) -> "RunDir":
        """Self, or a clear error when this is not a run folder."""
        if not self.path.is_dir():
            raise DataError(f"run folder not found: {self.path}")
        if not self.is_run():
            raise DataError(f"{self.path} is not a run folder (no {CONFIG}); "
                            "make one with `tfmodels train MODEL --data DATA --out DIR`")
        return self

    def config(self) -> dict | None:
        """The run's config, or None before any training started here."""
        return _read_json(self.config_file) if self.config_file.exists() else None

    def checked_config(self) -> dict:
        """The finished run's config, checked against the digest metrics.json recorded when
        training finished (what export and eval read: a changed data option or class name
        would otherwise give another answer without a word)."""
        config, expected = self.config() or {}, self.metrics().get("config_sha256")
        if expected and config_digest(config) != expected:
            raise DataError(f"{self.config_file} changed since training finished (its digest differs from "
                            f"{METRICS}'s): restore it, or retrain with --overwrite")
        return config

    def metrics(self) -> dict:
        """The finished run's metrics (a clear error if training never finished)."""
        self.require()
        if not self.metrics_file.exists():
            raise DataError(f"{self.path} has no finished training ({METRICS} is missing): "
                            "run the same `tfmodels train` command again to resume it")
        return _read_json(self.metrics_file)

    def is_finished(self) -> bool:
        try:
            metrics, config = self.metrics(), self.config()
        except DataError:
            return False
        return config is None or metrics.get("run_id") == config.get("run_id")

    def is_complete(self) -> bool:
        """Trained and exported, the export from this training."""
        if not self.is_finished() or not self.report_file.exists():
            return False
        try:
            return _read_json(self.report_file).get("run_id") == self.metrics().get("run_id")
        except DataError:
            return False

    def vocabulary(self) -> dict | None:
        """The token table the run's text data was encoded with, or None."""
        return _read_json(self.vocabulary_file) if self.vocabulary_file.exists() else None

    def history(self) -> dict:
        """Per-epoch metrics of the epochs finished so far (``{name: [values]}``)."""
        if not self.history_file.exists():
            return {}
        try:
            return _read_json(self.history_file)
        except DataError:
            return {}

    def load_data(self, data_dir=None):
        """The run's dataset again, from the source config.json recorded (``Splits``).

        ``data_dir`` overrides the recorded local-data folder (a run copied elsewhere).
        """
        from tfmodels.data import load_splits

        config = self.checked_config()
        source = config.get("data") or {"ref": self.metrics().get("dataset")}
        ref = source.get("ref")
        if not ref:
            raise DataError(f"{self.path} was trained on in-memory data ({source.get('name')}): "
                            "pass its arrays (representative=..., eval_data=...) from Python")
        splits = load_splits(ref, data_dir or source.get("data_dir"), **(source.get("options") or {}))
        recorded, now = source.get("fingerprint"), (splits.info.source or {}).get("fingerprint")
        if recorded and now != recorded:
            raise DataError(f"the files at {ref} changed since {self.path} was trained on them "
                            "(their fingerprint differs); train again, or restore the files")
        return splits

    def verify_saved_model(self) -> Path:
        """The SavedModel folder after checking every file against metrics.json's digests."""
        metrics = self.metrics()
        expected = metrics.get("saved_model_sha256")
        if not (self.saved_model / "saved_model.pb").exists():
            raise DataError(f"no SavedModel at {self.saved_model}; retrain to recreate it")
        if expected is None:  # written before digests were recorded
            return self.saved_model
        for name, digest in expected.items():
            path = self.saved_model / name
            if not path.is_file():
                raise DataError(f"{path} is missing; retrain with --overwrite to recreate the model")
            if sha256_file(path) != digest:
                raise DataError(f"{path} is damaged (checksum differs from {METRICS}); "
                                "retrain with --overwrite to recreate the model")
        return self.saved_model

    def export_report(self) -> dict:
        """The current export generation's report, checked to come from this training."""
        if not self.report_file.exists():
            raise DataError(f"{self.path} has no export yet: run `tfmodels export {self.path}`")
        report = _read_json(self.report_file)
        run_id = self.metrics().get("run_id")
        if run_id is not None and report.get("run_id") != run_id:
            raise DataError(f"the export in {self.export_dir} is from an earlier training: "
                            f"run `tfmodels export {self.path}` again")
        return report

    def export_files(self, verify: bool = True) -> dict[str, Path]:
        """``{mode: .tflite path}`` of the current generation, each checked against its digest."""
        report = self.export_report()
        files = {}
        for mode, entry in report.get("modes", {}).items():
            path = self.export_dir / entry["file"]
            if verify:
                self._check(path, report.get("files", {}).get(entry["file"]))
            files[mode] = path
        return files

    def export_file(self, name: str, verify: bool = True) -> Path | None:
        """A side file of the current generation (``labels.txt``, ``vocab.json``), or None."""
        path = self.export_dir / name
        if not path.exists():
            return None
        if verify:
            self._check(path, self.export_report().get("files", {}).get(name))
        return path

    @staticmethod
    def _check(path: Path, digest):
        if not path.is_file():
            raise DataError(f"{path} is missing; run `tfmodels export` again")
        if digest is not None and sha256_file(path) != digest:
            raise DataError(f"{path} is damaged (checksum differs from {REPORT}); "
                            "run `tfmodels export` again")

    # -- the lock --------------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self, command: str = "tfmodels"):
        """Hold the folder's lock for one command (an advisory ``flock``).

        The kernel releases a ``flock`` when its process dies, so a lock left by a
        killed command is taken over without a stale-lock dance; the file only says who
        holds it, for the error message. After taking it, leftovers of an interrupted
        command are removed (:meth:`clean`).
        """
        if self.path.exists() and not self.path.is_dir():
            raise TfmodelsError(f"{self.path} is a file, not a run folder: choose another --out")
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path / LOCK, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as e:
            raise TfmodelsError(f"cannot write the run folder {self.path}: {e.strerror}") from e
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as e:
                if e.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                holder = os.pread(fd, 4096, 0).decode(errors="replace").strip() or "another process"
                raise RunLockedError(f"{self.path} is in use by {holder}; wait for it to finish "
                                     "or use another --out") from None
            started = datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()} ({command}, since {started})"
                      .encode(), 0)
            self.clean()
            yield self
        finally:
            os.close(fd)  # closing releases the flock

    def clean(self):
        """Remove what an interrupted command left: temp files, unfinished or retired exports."""
        for tmp in [*self.path.glob(".*.tmp"), *self.path.glob(".*.old"),
                    *self.checkpoints.glob("*_temp*"), *self.checkpoints.glob(".*.tmp")]:
            _remove(tmp)
        current = self.export_dir.resolve() if self.export_dir.is_symlink() else None
        if self.exports.is_dir():
            for generation in self.exports.iterdir():
                if generation.resolve() != current:
                    _remove(generation)

    # -- training --------------------------------------------------------------------
    def start_training(self, config: dict, *, overwrite: bool = False, vocabulary=None) -> dict:
        """Check ``config`` against the folder's; return the config training continues with.

        A new folder (or ``overwrite``) starts a new run: everything of the old one goes.
        ``vocabulary`` (text data's token table) is written beside config.json.
        Equal arguments resume it (more epochs continue it); other arguments stop with
        :class:`ConfigMismatchError` naming the keys that differ.
        """
        config = json.loads(json.dumps(config, default=jsonable))  # compare as stored
        old = None
        if not overwrite:
            old = self.config()  # a damaged one is an error: only --overwrite goes on
            if old is None and self.metrics_file.exists():
                raise ConfigMismatchError(
                    f"{self.path} holds a run without {CONFIG} (made by an older tfmodels); "
                    "pass --overwrite to start over there, or use another --out")
        if old is not None:
            changed = differences(old, config)
            if changed:
                shown = ", ".join(f"{k} ({_lookup(old, k)!r} -> {_lookup(config, k)!r})" for k in changed)
                raise ConfigMismatchError(
                    f"{self.path} holds a run with other arguments: {shown}. Pass --overwrite to "
                    "start over, use another --out, or repeat the original arguments to resume")
            done = len(next(iter(self.history().values()), []))
            if config["epochs"] < done:
                raise ConfigMismatchError(
                    f"{self.path} has already trained {done} epochs; ask for --epochs {done} or "
                    "more to continue it, or pass --overwrite to start over")
            return old | {k: config[k] for k in RUNTIME_KEYS if k in config and k != "run_id"}
        self.reset()
        config = config | {"run_id": uuid.uuid4().hex}
        if vocabulary is not None:
            write_json(self.vocabulary_file, vocabulary)
        write_json(self.config_file, config)
        return config

    def reset(self):
        """Forget the run in this folder (config, metrics, checkpoints, model, exports)."""
        self.retire_export()
        for name in (METRICS, CONFIG, VOCABULARY, CHECKPOINTS, LOGS, SAVED_MODEL, EXPORTS):
            _remove(self.path / name)

    def retire_export(self):
        """Remove the current export generation (a new training makes it stale)."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.export_dir) if self.export_dir.is_symlink() else _remove(self.export_dir)
        _remove(self.exports)

    def write_history(self, history: dict):
        write_json(self.history_file, history)

    def finish_training(self, save_model, metrics: dict):
        """Write the model through ``save_model(path)``, then metrics.json last (the commit)."""
        self.retire_export()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.metrics_file)
        save_model(self.saved_model)
        write_json(self.metrics_file, metrics | {"saved_model_sha256": digests(self.saved_model),
                                                 "config_sha256": config_digest(self.config() or {})})

    # -- exporting -------------------------------------------------------------------
    @contextlib.contextmanager
    def new_export(self):
        """Yield an empty folder for a whole export generation; on success it becomes current.

        The folder is renamed into ``exports/`` and the ``tflite`` symlink is replaced in
        one rename, so readers see the old complete set or the new one, never a mix.
        """
        self.exports.mkdir(parents=True, exist_ok=True)
        name = datetime.datetime.now().strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
        tmp = self.exports / f".{name}.tmp"
        tmp.mkdir()
        try:
            yield tmp
        except BaseException:
            _remove(tmp)
            raise
        final = self.exports / name
        os.replace(tmp, final)
        link = self.path / f".{CURRENT_EXPORT}.{name}.tmp"
        os.symlink(Path(EXPORTS) / name, link)
        if self.export_dir.exists() and not self.export_dir.is_symlink():
            _remove(self.export_dir)  # a plain folder from an older tfmodels
        os.replace(link, self.export_dir)
        for generation in self.exports.iterdir():
            if generation != final:
                _remove(generation)


def write_lines(path, lines) -> Path:
    """One entry per line (labels.txt), written atomically."""
    return atomic_write(path, "".join(f"{line}\n" for line in lines))


def _lookup(config: dict, dotted: str):
    value = config
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _remove(path: Path):
    if path.is_symlink() or path.is_file():
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    elif path.is_dir():
        shutil.rmtree(path, ignore_errors=True)


def command_line() -> str:
    """The command that is running, for config.json and the lock file."""
    return " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])
