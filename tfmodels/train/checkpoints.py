"""Crash-safe epoch checkpoints: resume a killed run, survive a corrupt newest checkpoint.

Keras' ``BackupAndRestore`` keeps a single checkpoint (so one corrupt file loses the
run) and refuses single-device strategies, so the trainer uses this instead:
``tf.train.CheckpointManager`` keeps the last ``keep`` epoch checkpoints of the model,
its optimizer and the epoch counter. On start the newest checkpoint that restores
cleanly wins; a corrupt one is skipped with a warning. TensorFlow writes each
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


class EpochCheckpoints(keras.callbacks.Callback):
    """Save model + optimizer + epoch after every epoch; restore before training."""

    def __init__(self, directory, keep: int = 2):
        super().__init__()
        self.directory, self.keep = Path(directory), keep
        self.epoch = tf.Variable(0, trainable=False, dtype=tf.int64, name="epoch")

    def _checkpoint(self, model):
        return tf.train.Checkpoint(model=model, optimizer=model.optimizer, epoch=self.epoch)

    def restore(self, model) -> int:
        """Restore the newest clean checkpoint into ``model``; return its epoch (0: none)."""
        manager = tf.train.CheckpointManager(self._checkpoint(model), self.directory, self.keep)
        for path in reversed(manager.checkpoints):
            try:
                self._checkpoint(model).restore(path).assert_existing_objects_matched()
                log.info("resuming from %s (epoch %d)", path, int(self.epoch.numpy()))
                return int(self.epoch.numpy())
            except (tf.errors.OpError, AssertionError, ValueError) as e:
                message = f"checkpoint {path} is unreadable ({type(e).__name__}); trying an older one"
                warnings.warn(message, RuntimeWarning, stacklevel=2)
                log.warning(message)
        return 0

    def on_train_begin(self, logs=None):
        target = self.directory if is_chief() else worker_scratch(self.directory)
        self.manager = tf.train.CheckpointManager(self._checkpoint(self.model), target, self.keep)

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.assign(epoch + 1)
        self.manager.save(checkpoint_number=epoch + 1)

    def on_train_end(self, logs=None):
        if not is_chief():
            shutil.rmtree(worker_scratch(self.directory), ignore_errors=True)

    def clear(self):
        """Forget the checkpoints once the run has finished (a new run starts fresh)."""
        if is_chief():
            shutil.rmtree(self.directory, ignore_errors=True)
