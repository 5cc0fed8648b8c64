"""One trainer: build and compile under a ``tf.distribute`` strategy, fit, evaluate, save.

    result = tfmodels.train.fit("seed_cnn", "digits", epochs=20, out_dir="runs/seed_cnn")
    result.metrics["test_accuracy"]

With ``out_dir`` (a run folder, :mod:`tfmodels.rundir`) a killed run started again
with the same arguments resumes from its last finished epoch (see
:mod:`tfmodels.train.checkpoints`), and the folder ends up holding ``config.json``,
``metrics.json``, TensorBoard ``logs/`` and ``saved_model/`` (serving signature
``serving_default``), each written atomically.
"""
import dataclasses
import hashlib
import inspect
import logging
import math
import os
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from tfmodels._keras import keras, tf
from tfmodels.data.core import Splits, load_splits, looks_like_path
from tfmodels.errors import DataError, TfmodelsError, UnknownNameError
from tfmodels.files import atomic_directory, write_json
from tfmodels.registry import GRAPH_TASKS, check_compatible, get_spec, list_models
from tfmodels.rundir import RunDir, command_line, versions
from tfmodels.train.checkpoints import EpochCheckpoints, is_chief, worker_scratch
from tfmodels.train.selection import SELECT, BestEpoch
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


def outputs_logits(model) -> bool:
    """Whether the model's (first) output is logits: a subclassed model says so with a
    ``from_logits`` attribute; otherwise the output layer's activation tells."""
    if hasattr(model, "from_logits"):
        return bool(model.from_logits)
    outputs = getattr(model, "outputs", None) or []
    if not outputs:
        return False
    layer = outputs[0]._keras_history.layer
    return getattr(layer, "activation", None) is keras.activations.linear


#: The box term's weight beside the class cross-entropy in a localizer's loss.
BOX_LOSS_WEIGHT = 10.0


def box_loss(y_true, y_pred):
    """L1 distance of the box corners (fractions of the image), times BOX_LOSS_WEIGHT.

    L1, not squared error: IoU falls linearly with a corner's error, and a squared error
    of a few pixels on a 40 px canvas (0.05**2) no longer pulls. On ``digit-boxes``, 8
    epochs: mean IoU 0.48 with MSE, 0.73 with L1, 0.81 with L1 x 10 (2026-12-05).
    """
    return BOX_LOSS_WEIGHT * keras.losses.mean_absolute_error(y_true, y_pred)


def _default_loss(task: str, model):
    """Loss and metrics for a task (None, []: the model's own, e.g. autoencoders)."""
    classify = keras.losses.SparseCategoricalCrossentropy(from_logits=outputs_logits(model))
    if task in ("classification", "segmentation", "node_classification", "graph_classification"):
        return classify, ["accuracy"]
    if task == "localization":
        return {"class": keras.losses.SparseCategoricalCrossentropy(), "box": box_loss}, {"class": ["accuracy"]}
    if task == "regression":
        return keras.losses.MeanSquaredError(), [keras.metrics.MeanAbsoluteError(name="mae")]
    if task in ("link_prediction", "recommendation"):  # a logit per pair: positive or not
        return keras.losses.BinaryCrossentropy(from_logits=True), [keras.metrics.AUC(from_logits=True, name="auc")]
    return None, []


#: Learning-rate schedules: constant, cosine decay to 0 over the run, or halved every
#: 50 epochs ("step", Xu et al. 2019's GIN setup).
SCHEDULES = ("constant", "cosine", "step")
#: What a run uses for an argument neither given nor set by its model's paper setup.
TRAINING_DEFAULTS = {"epochs": 10, "batch_size": 32, "learning_rate": 1e-3, "schedule": "constant",
                     "select": "last"}
#: The optimizers ``fit(optimizer=...)`` and ``--optimizer`` take by name (tf_keras 2.21's).
OPTIMIZERS = ("adadelta", "adafactor", "adagrad", "adam", "adamax", "adamw", "ftrl", "lion", "nadam",
              "rmsprop", "sgd")


def _learning_rate(learning_rate: float, schedule, steps_per_epoch: int, epochs: int):
    """A constant rate, cosine decay to zero over the whole run, or halving every 50 epochs."""
    if schedule == "cosine":
        return keras.optimizers.schedules.CosineDecay(learning_rate, epochs * steps_per_epoch)
    if schedule == "step":
        return keras.optimizers.schedules.ExponentialDecay(learning_rate, 50 * steps_per_epoch, 0.5,
                                                           staircase=True)
    return learning_rate


def _optimizer(name: str, learning_rate):
    """A current (non-legacy) Keras optimizer by name; a config dict would give legacy."""
    return type(keras.optimizers.get(name))(learning_rate=learning_rate)


def _mixed_policy(strategy) -> str:
    on_gpu = bool(tf.config.list_logical_devices("GPU"))
    return "mixed_float16" if on_gpu and not isinstance(strategy, tf.distribute.TPUStrategy) else "mixed_bfloat16"


def _num_examples(arrays) -> int:
    return len(tf.nest.flatten(arrays)[0])


def _build(model_or_name, splits, model_kwargs):
    info = splits.info
    if isinstance(model_or_name, str):
        spec = get_spec(model_or_name)
        accepts = inspect.signature(spec.builder).parameters
        kwargs = {"input_shape": info.input_shape}
        if info.num_classes is not None:  # a language model's classes are its vocabulary
            kwargs["num_classes" if "num_classes" in accepts else "vocab_size"] = info.num_classes
        elif info.task == "regression" and "classifier_activation" in accepts:  # a linear head
            kwargs |= {"num_classes": int(np.prod(np.shape(splits.train[1])[1:])), "classifier_activation": None}
        kwargs = {k: v for k, v in (kwargs | info.model_kwargs).items() if k in accepts}
        kwargs |= spec.default_kwargs | (model_kwargs or {})
        try:
            return spec.builder(**kwargs)
        except (ValueError, TypeError) as e:  # a builder refusing this shape or keyword
            raise TfmodelsError(f"{model_or_name} cannot be built for {info.name} "
                                f"(input shape {info.input_shape}): {e}") from e
    if callable(model_or_name) and not isinstance(model_or_name, keras.Model):
        return model_or_name(**(model_kwargs or {}))
    return model_or_name


def _check_arguments(epochs, batch_size, learning_rate, optimizer):
    """Refuse sizes, rates and names that cannot train, before anything is written."""
    if isinstance(optimizer, str) and optimizer.lower() not in OPTIMIZERS:
        raise UnknownNameError("optimizer", optimizer, list(OPTIMIZERS))
    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise TfmodelsError(f"{name} must be a whole number >= 1, given {value!r}")
    if not (isinstance(learning_rate, (int, float)) and math.isfinite(learning_rate) and learning_rate > 0):
        raise TfmodelsError(f"learning_rate must be a finite number > 0, given {learning_rate!r}")


def _name(obj) -> str | None:
    """A JSON-able name for a loss, optimizer or model given as an object."""
    if obj is None or isinstance(obj, str):
        return obj
    return getattr(obj, "name", None) or getattr(obj, "__name__", None) or type(obj).__name__


def _config(model_or_name, splits, data, data_dir, **args) -> dict:
    """What config.json records: every argument, the data source, classes and versions."""
    info = splits.info
    source = dict(info.source or {"ref": data if isinstance(data, str) else None, "name": info.name})
    data_dir = data_dir or (os.environ.get("TFMODELS_DATA_DIR") if isinstance(data, str) else None)
    if data_dir and not info.source:  # the user's own files are found by their recorded path
        source["data_dir"] = str(Path(data_dir).expanduser().resolve())
    return {
        "model": _name(model_or_name) if not isinstance(model_or_name, str) else model_or_name,
        "data": source,
        "task": info.task,
        "class_names": list(info.class_names),
        **args,
        "versions": versions(),
        "command": command_line(),
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def fit(model_or_name, data, *, strategy="auto", epochs: int | None = None, batch_size: int | None = None,
        learning_rate: float | None = None, schedule: str | None = None, select: str | None = None,
        optimizer: str = "adam", loss=None, metrics=None,
        mixed_precision: bool = False, jit_compile: bool = False, qat: bool = False,
        out_dir=None, overwrite: bool = False, data_dir=None, data_options=None, model_kwargs=None,
        callbacks=(), verbose: int = 1, seed: int = 0) -> TrainResult:
    """Train a model on a dataset and evaluate it on the test split.

    Args:
      model_or_name: a registry name (built for the dataset's input shape and
        classes inside the strategy scope), a zero-argument builder, or a
        ``keras.Model`` (single-device strategies only: its variables already exist).
      data: a dataset name (see ``tfmodels.data.list_datasets``; graph datasets too),
        the path of your own data (a folder of images or of graphs, a .csv file:
        :mod:`tfmodels.data.own`, read with ``data_options``), or a ``Splits``
        (``tfmodels.data.from_arrays``; graphs: :mod:`tfmodels.data.graphs.splits`).
        An image folder read without ``image_size`` is resized to the named model's
        default input size.
      strategy: a name from ``tfmodels.train.STRATEGIES`` or a Strategy object.
      epochs, batch_size, learning_rate, schedule, select: None takes the named model's
        paper setup (``tfmodels.get_spec(name).training``: ``tfmodels train gcn`` trains
        as Kipf & Welling did), else ``TRAINING_DEFAULTS`` (10 epochs, batch 32, 1e-3,
        constant rate, the last epoch's weights).
      batch_size: per replica; the global batch is this times the replica count (graph
        classification: graphs per batch; node classification trains on the whole graph).
      schedule: "constant", "cosine" (decay to 0 by the end) or "step" (halve every 50 epochs).
      select: "last" keeps the last epoch's weights; "val_accuracy" or "val_loss" keep
        the best epoch's on the validation split (:mod:`tfmodels.train.selection`).
      loss, metrics: default from the dataset's task (classification: sparse
        cross-entropy + accuracy; regression: MSE + MAE; otherwise the model's own).
      mixed_precision: ``mixed_float16`` on GPU, ``mixed_bfloat16`` on TPU/CPU.
      qat: wrap the model for quantization-aware training before compiling.
      out_dir: the run folder (:class:`tfmodels.rundir.RunDir`): config, checkpoints,
        logs, metrics.json and saved_model/. Equal arguments resume a killed run (more
        epochs continue a finished one, equal epochs return it as it is); other
        arguments raise :class:`~tfmodels.rundir.ConfigMismatchError` unless
        ``overwrite``, which starts over.
      verbose: 0 silent, 1 a progress bar, 2 one line per epoch (for logs).
    """
    paper = get_spec(model_or_name).training if isinstance(model_or_name, str) else {}
    given = {"epochs": epochs, "batch_size": batch_size, "learning_rate": learning_rate,
             "schedule": schedule, "select": select}
    epochs, batch_size, learning_rate, schedule, select = (
        v if v is not None else paper.get(k, TRAINING_DEFAULTS[k]) for k, v in given.items())
    _check_arguments(epochs, batch_size, learning_rate, optimizer)
    if schedule not in SCHEDULES:
        raise UnknownNameError("schedule", schedule, SCHEDULES)
    if select not in SELECT:
        raise UnknownNameError("select", select, SELECT)
    strat = get_strategy(strategy)  # first: multi-worker setup must precede any TF op
    splits = data if isinstance(data, Splits) else load_splits(
        data, data_dir, **_data_options(model_or_name, data, data_options))
    if isinstance(model_or_name, str):
        check_compatible(model_or_name, splits)
    if splits.info.task in GRAPH_TASKS and strat.num_replicas_in_sync > 1:
        raise TfmodelsError(f"graph training runs on one replica (a step takes one whole graph, or one "
                            f"merged batch of graphs, which Keras cannot split); {type(strat).__name__} has "
                            f"{strat.num_replicas_in_sync}: use --strategy cpu or gpu")
    run = RunDir(out_dir) if out_dir else None
    config = _config(model_or_name, splits, data, data_dir, model_kwargs=model_kwargs or {},
                     epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
                     # "constant" and "last" are stored as None, as runs before them did
                     schedule=None if schedule == "constant" else schedule,
                     select=None if select == "last" else select,
                     optimizer=_name(optimizer), loss=_name(loss), seed=seed,
                     strategy=strategy if isinstance(strategy, str) else type(strategy).__name__,
                     qat=qat, mixed_precision=mixed_precision, jit_compile=jit_compile)
    if run is None or not is_chief():
        return _fit(model_or_name, splits, strat, run, config, loss, metrics, callbacks, verbose)
    with run.lock("tfmodels train"):
        config = run.start_training(config, overwrite=overwrite, vocabulary=splits.info.vocabulary)
        write_json(run.config_file, config)
        if run.is_finished() and run.metrics().get("epochs") == epochs:
            log.info("%s is already trained for %d epochs", run.path, epochs)
            return TrainResult(load(run.path), run.metrics(), run.path)
        return _fit(model_or_name, splits, strat, run, config, loss, metrics, callbacks, verbose)


def _data_options(model_or_name, data, options) -> dict:
    """How to read the user's own files: the options given, and for an image folder
    without ``image_size``, the size the named model is built for by default."""
    from tfmodels.data.own import graph_format

    options = dict(options or {})
    if (isinstance(model_or_name, str) and isinstance(data, str) and looks_like_path(data)
            and Path(data).expanduser().is_dir() and options.get("image_size") is None
            and not graph_format(Path(data).expanduser())):
        default = inspect.signature(get_spec(model_or_name).builder).parameters.get("input_shape")
        shape = getattr(default, "default", None)
        if isinstance(shape, tuple) and len(shape) == 3 and all(isinstance(d, int) for d in shape[:2]):
            options["image_size"] = list(shape[:2])
    return options


def _fit(model_or_name, splits, strat, run, config, loss, metrics, callbacks, verbose) -> TrainResult:
    epochs, batch_size, seed = config["epochs"], config["batch_size"], config["seed"]
    keras.utils.set_random_seed(seed)
    info = splits.info
    placement = describe(strat)
    log.info("training on %s with %d replica(s): %s", placement["strategy"],
             placement["replicas"], placement["devices"])
    if isinstance(model_or_name, keras.Model) and strat.num_replicas_in_sync > 1:
        raise ValueError("pass a model name or a builder function for multi-replica "
                         "training, so its variables are created under the strategy")
    global_batch = batch_size * strat.num_replicas_in_sync
    steps_per_epoch = splits.steps("train", global_batch)
    previous_policy = keras.mixed_precision.global_policy()
    if config["mixed_precision"]:
        keras.mixed_precision.set_global_policy(_mixed_policy(strat))
    try:
        with strat.scope():
            model = _build(model_or_name, splits, config["model_kwargs"])
            if config["qat"]:
                from tfmodels.train.qat import quantize_model
                model = quantize_model(model)
            default_loss, default_metrics = _default_loss(info.task, model)
            rate = _learning_rate(config["learning_rate"], config["schedule"], steps_per_epoch, epochs)
            metrics = metrics if metrics is not None else default_metrics
            masked = info.task == "node_classification"  # sample weights pick each split's nodes
            model.compile(
                optimizer=_optimizer(config["optimizer"], rate),
                loss=loss if loss is not None else default_loss,
                metrics=None if masked else metrics, weighted_metrics=metrics if masked else None,
                jit_compile=config["jit_compile"],
            )
    finally:
        keras.mixed_precision.set_global_policy(previous_policy)

    train = splits.dataset("train", batch_size=global_batch, shuffle=True, seed=seed)
    val = splits.dataset("val", batch_size=global_batch)
    test = splits.dataset("test", batch_size=global_batch)
    timer = _EpochTimer()
    cbs = [timer]
    best = None
    if config.get("select"):  # before the checkpoints: an epoch's choice is saved with it
        with strat.scope():
            best = BestEpoch(model, config["select"])
        cbs.append(best)
    initial_epoch, checkpoints = 0, None
    if run:
        checkpoints = EpochCheckpoints(run.checkpoints, run.history_file,
                                       extra={"best": best.state} if best else None)
        with strat.scope():
            model.optimizer.build(model.trainable_variables)
        initial_epoch = checkpoints.restore(model, run.history())
        cbs.append(checkpoints)  # before user callbacks: a finished epoch is saved first
        if is_chief():
            cbs.append(keras.callbacks.TensorBoard(str(run.logs), profile_batch=0))
    cbs.extend(callbacks)
    if verbose == 1:
        cbs.append(_ProgressBar(epochs, steps_per_epoch))
    start = time.perf_counter()
    history = model.fit(train, validation_data=val, epochs=epochs, initial_epoch=initial_epoch,
                        callbacks=cbs, verbose=2 if verbose == 2 else 0)
    wall = time.perf_counter() - start
    test_metrics = model.evaluate(test, return_dict=True, verbose=0)
    curves = checkpoints.history if checkpoints else history.history
    _check_finite(curves, test_metrics)

    n_train = info.splits.get("train") or _num_examples(splits.train[0])  # nodes, graphs or examples
    steady = timer.times[1:] or timer.times  # the first epoch pays for tracing
    metrics = {
        "run_id": config.get("run_id"),
        "model": model.name,
        "dataset": info.name,
        "task": info.task,
        "epochs": epochs,
        "resumed_from_epoch": initial_epoch,
        "epochs_run_this_process": len(history.epoch),
        "batch_size_per_replica": batch_size,
        "global_batch_size": global_batch,
        "learning_rate": config["learning_rate"],
        "schedule": config["schedule"],
        "select": config.get("select"),
        "selected_epoch": best.selected_epoch if best else epochs,
        "mixed_precision": config["mixed_precision"],
        "jit_compile": config["jit_compile"],
        **placement,
        "params": int(model.count_params()),
        "weights_sha256": weights_digest(model),
        "wall_seconds": round(wall, 3),
        "samples_per_s": round(n_train * len(steady) / sum(steady), 1) if steady else None,
        "epoch_seconds": round(sum(steady) / len(steady), 5) if steady else None,  # training pass only
        "history": {k: [float(v) for v in vs] for k, vs in curves.items()},
        **{f"train_{k}": float(v[-1]) for k, v in curves.items() if not k.startswith("val_") and v},
        **{k: float(v[-1]) for k, v in curves.items() if k.startswith("val_") and v},
        **{f"test_{k}": float(v) for k, v in test_metrics.items()},
    }
    if run:
        if is_chief():
            run.finish_training(lambda path: save(model, path), metrics)
        else:  # every worker must take part in saving; only the chief keeps it
            scratch = worker_scratch(run.saved_model)
            save(model, scratch)
            shutil.rmtree(scratch, ignore_errors=True)
    return TrainResult(model, metrics, run.path if run else None)


def _check_finite(curves: dict, test_metrics: dict):
    """A loss that went NaN or infinite is a failed run, not a result to save."""
    bad = [k for k, v in curves.items() if v and not math.isfinite(v[-1])]
    bad += [f"test_{k}" for k, v in test_metrics.items() if not math.isfinite(float(v))]
    if bad:
        raise TfmodelsError(f"training diverged: {', '.join(bad)} is not finite; lower the "
                            "learning rate (the checkpoints of the finished epochs are kept)")


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
    """Reload a SavedModel as a Keras model: a SavedModel folder, or a run folder
    (whose SavedModel is first checked file by file against its recorded digests)."""
    path = Path(path)
    if RunDir(path).is_run():
        path = RunDir(path).verify_saved_model()
    if not (path / "saved_model.pb").exists():
        raise DataError(f"no SavedModel at {path} (expected saved_model.pb inside)")
    list_models()  # imports every family: its layers (and TF-GNN's GraphTensorSpec) must be registered
    try:
        return keras.models.load_model(str(path), compile=False)
    except Exception as e:  # noqa: BLE001  (damaged protobufs and variables raise many types)
        first = str(e).strip().splitlines()[0][:300] if str(e).strip() else type(e).__name__
        raise DataError(f"the SavedModel at {path} cannot be loaded ({first})") from e


def evaluate_arrays(model, x, y, batch_size: int = 256) -> float:
    """Top-1 accuracy of a classifier on numpy arrays."""
    pred = model.predict(x, batch_size=batch_size, verbose=0)
    return float(np.mean(np.argmax(pred, -1) == y))
