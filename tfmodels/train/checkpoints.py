"""Crash-safe epoch checkpoints: resume a killed run, survive a corrupt newest checkpoint.

Keras' ``BackupAndRestore`` keeps a single checkpoint (so one corrupt file loses the
run) and refuses single-device strategies, so the trainer uses this instead:
``tf.train.CheckpointManager`` keeps the last ``keep`` epoch checkpoints of the model,
its optimizer and the epoch counter. On start the newest checkpoint whose every tensor
reads back wins; a damaged one is skipped with a warning, and with none readable
training starts over (with a warning). TensorFlow writes each
checkpoint's files first and its index last (by rename), so a kill mid-save leaves the
previous checkpoint current.

Under MultiWorkerMirroredStrategy every worker must take part in saving; only the chief
writes to ``directory``, the others write to a scratch folder that is then removed.
All workers restore from the chief's folder (shared storage across hosts).
"""
import json
import logging
import os
import shutil
import warnings
from pathlib import Path

from tfmodels._keras import keras, tf
from tfmodels.files import write_json

log = logging.getLogger("tfmodels.train")


def task() -> tuple[str, int]:
    """This process's (type, index) in TF_CONFIG, ("chief", 0) when not distributed."""
    spec = json.loads(os.environ.get("TF_CONFIG", "{}")).get("task", {})
    return spec.get("type", "chief"), int(spec.get("index", 0))


def is_chief() -> bool:
    kind, index = task()
    cluster = json.loads(os.environ.get("TF_CONFIG", "{}")).get("cluster", {})
    return kind == "chief" or (kind == "worker" and index == 0 and "chief" not in cluster)


def worker_scratch(directory: Path) -> Path:
    kind, index = task()
    return directory.parent / f".{directory.name}.{kind}{index}"


def _number(index_file: Path) -> int:
    return int(index_file.name.removeprefix("ckpt-").removesuffix(".index"))


def checkpoint_paths(directory) -> list[str]:
    """Checkpoint prefixes in ``directory``, oldest first, found from their files.

    The files are listed rather than read from TensorFlow's ``checkpoint`` state file,
    so a damaged state file loses nothing.
    """
    found = [p for p in Path(directory).glob("ckpt-*.index") if p.name[5:-6].isdigit()]
    return [str(p.with_suffix("")) for p in sorted(found, key=_number)]


def unreadable(prefix: str) -> str | None:
    """Why the checkpoint ``prefix`` cannot be restored, or None when every tensor reads back.

    Every tensor is read in full (TensorFlow checks each one's CRC32C), so a truncated,
    emptied or bit-flipped ``.data`` or ``.index`` file is found before any variable is
    touched: restoring a damaged checkpoint could fail halfway, leaving a model that is
    neither the old state nor a fresh one.
    """
    try:
        reader = tf.train.load_checkpoint(prefix)
        for name in reader.get_variable_to_shape_map():
            reader.get_tensor(name)
    except Exception as e:  # noqa: BLE001  (TensorFlow raises OpError, IndexError, ValueError, ...)
        return f"{type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''}"
    return None


class EpochCheckpoints(keras.callbacks.Callback):
    """After every epoch: the epoch's logs to ``history_file``, then model + optimizer + epoch.

    The history is written first, so it is never behind the newest checkpoint; on
    restore it is cut back to the restored epoch. ``extra``: more state saved and
    restored with each checkpoint (``{name: trackable}``, e.g. the weights model
    selection keeps: :class:`tfmodels.train.selection.BestEpoch`).
    """

    def __init__(self, directory, history_file=None, keep: int = 2, extra=None):
        super().__init__()
        self.directory, self.keep, self.extra = Path(directory), keep, dict(extra or {})
        self.history_file = Path(history_file) if history_file else None
        self.epoch = tf.Variable(0, trainable=False, dtype=tf.int64, name="epoch")
        self.history: dict[str, list[float]] = {}

    def _checkpoint(self, model):
        return tf.train.Checkpoint(model=model, optimizer=model.optimizer, epoch=self.epoch, **self.extra)

    def restore(self, model, history: dict | None = None) -> int:
        """Restore the newest readable checkpoint into ``model``; return its epoch (0: none).

        ``history``: the per-epoch logs recorded so far, cut back to the restored epoch.
        """
        paths = checkpoint_paths(self.directory)
        for path in reversed(paths):
            reason = unreadable(path)
            if reason is None:
                self._checkpoint(model).restore(path).assert_existing_objects_matched()
                epoch = int(self.epoch.numpy())
                log.info("resuming from %s (epoch %d)", path, epoch)
                self.history = {k: list(v[:epoch]) for k, v in (history or {}).items()}
                return epoch
            _warn(f"checkpoint {path} is damaged ({reason}); trying an older one")
        if paths:
            _warn(f"no readable checkpoint in {self.directory}: training starts over")
        self.history = {}
        return 0

    def on_train_begin(self, logs=None):
        target = self.directory if is_chief() else worker_scratch(self.directory)
        state = target / "checkpoint"
        if state.exists() and not _parsable(target):
            state.unlink()  # CheckpointManager would fail on it; the files are listed instead
        self.manager = tf.train.CheckpointManager(self._checkpoint(self.model), target, self.keep)

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        if self.history_file and is_chief():
            write_json(self.history_file, self.history)
        self.epoch.assign(epoch + 1)
        self.manager.save(checkpoint_number=epoch + 1)

    def on_train_end(self, logs=None):
        if not is_chief():
            shutil.rmtree(worker_scratch(self.directory), ignore_errors=True)


def _parsable(directory: Path) -> bool:
    try:
        return tf.train.get_checkpoint_state(str(directory)) is not None
    except Exception:  # noqa: BLE001  (ParseError, ValueError, UnicodeDecodeError)
        return False


def _warn(message: str):
    warnings.warn(message, RuntimeWarning, stacklevel=3)
    log.warning(message)
