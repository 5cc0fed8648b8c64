"""One trainer: build and compile under a ``tf.distribute`` strategy, fit, evaluate, save.

    result = tfmodels.train.fit("seed_cnn", "digits", epochs=20, out_dir="runs/seed_cnn")
    result.metrics["test_accuracy"]

With ``out_dir`` a killed run started again with the same arguments resumes from its
last finished epoch (see :mod:`tfmodels.train.checkpoints`), and the directory ends
up holding ``metrics.json``, TensorBoard ``logs/`` and ``saved_model/`` (serving
signature ``serving_default``), each written atomically.
"""
import dataclasses
import hashlib
import logging
import shutil
import time
from pathlib import Path

import numpy as np

from tfmodels._keras import keras, tf
from tfmodels.data.core import Splits, load_splits, to_dataset
from tfmodels.errors import UnknownNameError
from tfmodels.files import atomic_directory, write_json
from tfmodels.registry import get_spec
from tfmodels.train.checkpoints import EpochCheckpoints, is_chief, worker_scratch
from tfmodels.train.strategy import describe, get_strategy

log = logging.getLogger("tfmodels.train")


@dataclasses.dataclass
class TrainResult:
    model: "keras.Model"
    metrics: dict
    out_dir: Path | None


class _EpochTimer(keras.callbacks.Callback):
    """Wall time of each epoch's training pass (validation excluded)."""

    def on_train_begin(self, logs=None):
        self.times = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_test_begin(self, logs=None):  # validation runs inside the epoch
        self.times.append(time.perf_counter() - self._start)


class _ProgressBar(keras.callbacks.Callback):
    """One tqdm bar over all training steps, with the latest metrics beside it."""

    def __init__(self, epochs: int, steps: int):
        super().__init__()
        self.epochs, self.steps = epochs, steps

    def on_train_begin(self, logs=None):
        from tqdm.auto import tqdm

        self.bar = tqdm(total=self.epochs * self.steps, unit="step", dynamic_ncols=True)

    def on_epoch_begin(self, epoch, logs=None):
        self.bar.n = epoch * self.steps  # right after a resume too
        self.bar.set_description(f"epoch {epoch + 1}/{self.epochs}")

    def on_train_batch_end(self, batch, logs=None):
        self.bar.update(1)

    def on_epoch_end(self, epoch, logs=None):
        self.bar.set_postfix({k: f"{v:.4g}" for k, v in (logs or {}).items()})

    def on_train_end(self, logs=None):
        self.bar.close()


def _default_loss(task: str):
    if task == "classification":
        return keras.losses.SparseCategoricalCrossentropy(), ["accuracy"]
    if task == "regression":
        return keras.losses.MeanSquaredError(), [keras.metrics.MeanAbsoluteError(name="mae")]
    return None, []


SCHEDULES = (None, "cosine")


def _learning_rate(learning_rate: float, schedule, total_steps: int):
    """A constant rate, or cosine decay to zero over the whole run."""
    if schedule not in SCHEDULES:
        raise UnknownNameError("schedule", schedule, [s for s in SCHEDULES if s])
    if schedule == "cosine":
        return keras.optimizers.schedules.CosineDecay(learning_rate, total_steps)
    return learning_rate


def _optimizer(name: str, learning_rate):
    """A current (non-legacy) Keras optimizer by name; a config dict would give legacy."""
    return type(keras.optimizers.get(name))(learning_rate=learning_rate)


def _mixed_policy(strategy) -> str:
    on_gpu = bool(tf.config.list_logical_devices("GPU"))
    return "mixed_float16" if on_gpu and not isinstance(strategy, tf.distribute.TPUStrategy) else "mixed_bfloat16"


def _num_examples(arrays) -> int:
    return len(tf.nest.flatten(arrays)[0])


def _build(model_or_name, info, model_kwargs):
    if isinstance(model_or_name, str):
        kwargs = {"input_shape": info.input_shape}
        if info.num_classes is not None:
            kwargs["num_classes"] = info.num_classes
        kwargs.update(model_kwargs or {})
        return get_spec(model_or_name).builder(**kwargs)
    if callable(model_or_name) and not isinstance(model_or_name, keras.Model):
        return model_or_name(**(model_kwargs or {}))
    return model_or_name


def fit(model_or_name, data, *, strategy="auto", epochs: int = 5, batch_size: int = 32,
        learning_rate: float = 1e-3, schedule: str | None = None, optimizer: str = "adam",
        loss=None, metrics=None,
        mixed_precision: bool = False, jit_compile: bool = False, qat: bool = False,
        out_dir=None, data_dir=None, model_kwargs=None, callbacks=(), verbose: int = 1,
        seed: int = 0) -> TrainResult:
    """Train a model on a dataset and evaluate it on the test split.

    Args:
      model_or_name: a registry name (built for the dataset's input shape and
        classes inside the strategy scope), a zero-argument builder, or a
        ``keras.Model`` (single-device strategies only: its variables already exist).
      data: a dataset name (see ``tfmodels.data.list_datasets``) or a ``Splits``.
      strategy: a name from ``tfmodels.train.STRATEGIES`` or a Strategy object.
      batch_size: per replica; the global batch is this times the replica count.
      schedule: None (constant learning rate) or "cosine" (decay to 0 by the end).
      loss, metrics: default from the dataset's task (classification: sparse
        cross-entropy + accuracy; regression: MSE + MAE; otherwise the model's own).
      mixed_precision: ``mixed_float16`` on GPU, ``mixed_bfloat16`` on TPU/CPU.
      qat: wrap the model for quantization-aware training before compiling.
      out_dir: where checkpoints, logs, metrics.json and saved_model/ go.
      verbose: 0 silent, 1 a progress bar, 2 one line per epoch (for logs).
    """
    strat = get_strategy(strategy)  # first: multi-worker setup must precede any TF op
    keras.utils.set_random_seed(seed)
    splits = data if isinstance(data, Splits) else load_splits(data, data_dir)
    info = splits.info
    placement = describe(strat)
    log.info("training on %s with %d replica(s): %s", placement["strategy"],
             placement["replicas"], placement["devices"])
    if isinstance(model_or_name, keras.Model) and strat.num_replicas_in_sync > 1:
        raise ValueError("pass a model name or a builder function for multi-replica "
                         "training, so its variables are created under the strategy")
    global_batch = batch_size * strat.num_replicas_in_sync
    steps_per_epoch = -(-_num_examples(splits.train[0]) // global_batch)
    previous_policy = keras.mixed_precision.global_policy()
    if mixed_precision:
        keras.mixed_precision.set_global_policy(_mixed_policy(strat))
    try:
        with strat.scope():
            model = _build(model_or_name, info, model_kwargs)
            if qat:
                from tfmodels.train.qat import quantize_model
                model = quantize_model(model)
            default_loss, default_metrics = _default_loss(info.task)
            model.compile(
                optimizer=_optimizer(optimizer, _learning_rate(learning_rate, schedule,
                                                               epochs * steps_per_epoch)),
                loss=loss if loss is not None else default_loss,
                metrics=metrics if metrics is not None else default_metrics,
                jit_compile=jit_compile,
            )
    finally:
        keras.mixed_precision.set_global_policy(previous_policy)

    train = to_dataset(*splits.train, batch_size=global_batch, shuffle=True, seed=seed)
    val = to_dataset(*splits.val, batch_size=global_batch)
    test = to_dataset(*splits.test, batch_size=global_batch)
    timer = _EpochTimer()
    cbs = [timer]
    out = Path(out_dir) if out_dir else None
    initial_epoch, checkpoints = 0, None
    if out:
        out.mkdir(parents=True, exist_ok=True)
        checkpoints = EpochCheckpoints(out / "checkpoints")
        with strat.scope():
            model.optimizer.build(model.trainable_variables)
        initial_epoch = checkpoints.restore(model)
        cbs.append(checkpoints)  # before user callbacks: a finished epoch is saved first
        if is_chief():
            cbs.append(keras.callbacks.TensorBoard(str(out / "logs"), profile_batch=0))
    cbs.extend(callbacks)
    if verbose == 1:
        cbs.append(_ProgressBar(epochs, steps_per_epoch))
    start = time.perf_counter()
    history = model.fit(train, validation_data=val, epochs=epochs, initial_epoch=initial_epoch,
                        callbacks=cbs, verbose=2 if verbose == 2 else 0)
    wall = time.perf_counter() - start
    test_metrics = model.evaluate(test, return_dict=True, verbose=0)

    n_train = _num_examples(splits.train[0])
    steady = timer.times[1:] or timer.times  # the first epoch pays for tracing
    metrics = {
        "model": model.name,
        "dataset": info.name,
        "epochs": epochs,
        "resumed_from_epoch": initial_epoch,
        "epochs_run_this_process": len(history.epoch),
        "batch_size_per_replica": batch_size,
        "global_batch_size": global_batch,
        "learning_rate": learning_rate,
        "schedule": schedule,
        "mixed_precision": mixed_precision,
        "jit_compile": jit_compile,
        **placement,
        "params": int(model.count_params()),
        "weights_sha256": weights_digest(model),
        "wall_seconds": round(wall, 3),
        "samples_per_s": round(n_train * len(steady) / sum(steady), 1) if steady else None,
        "history": {k: [float(v) for v in vs] for k, vs in history.history.items()},
        **{f"train_{k}": float(v[-1]) for k, v in history.history.items() if not k.startswith("val_")},
        **{k: float(v[-1]) for k, v in history.history.items() if k.startswith("val_")},
        **{f"test_{k}": float(v) for k, v in test_metrics.items()},
    }
    if out:
        if is_chief():
            save(model, out / "saved_model")
            write_json(out / "metrics.json", metrics)
        else:  # every worker must take part in saving; only the chief keeps it
            scratch = worker_scratch(out / "saved_model")
            save(model, scratch)
            shutil.rmtree(scratch, ignore_errors=True)
        checkpoints.clear()
    return TrainResult(model, metrics, out)


def weights_digest(model) -> str:
    """SHA-256 of all weights: equal digests mean identical models (e.g. across workers)."""
    digest = hashlib.sha256()
    for w in model.get_weights():
        digest.update(np.ascontiguousarray(w).tobytes())
    return digest.hexdigest()


def save(model, path) -> Path:
    """Save ``model`` as a SavedModel at ``path`` atomically (temp dir + rename)."""
    with atomic_directory(path) as tmp:
        model.save(str(tmp), save_format="tf", include_optimizer=False)
    return Path(path)


def load(path):
    """Reload a SavedModel written by :func:`save` as a Keras model."""
    path = Path(path)
    if (path / "saved_model").is_dir():
        path = path / "saved_model"
    if not (path / "saved_model.pb").exists():
        from tfmodels.errors import DataError
        raise DataError(f"no SavedModel at {path} (expected saved_model.pb inside)")
    return keras.models.load_model(str(path), compile=False)


def evaluate_arrays(model, x, y, batch_size: int = 256) -> float:
    """Top-1 accuracy of a classifier on numpy arrays."""
    pred = model.predict(x, batch_size=batch_size, verbose=0)
    return float(np.mean(np.argmax(pred, -1) == y))
