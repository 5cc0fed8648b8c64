"""The dataset registry and the one way arrays become a ``tf.data`` pipeline."""
import dataclasses
import functools
import os
from pathlib import Path
from typing import Callable

import numpy as np

from tfmodels._keras import tf
from tfmodels.errors import DataError, UnknownNameError

SPLITS = ("train", "val", "test")


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """What a model needs to know about a dataset to be built and evaluated."""

    name: str
    task: str  # "classification", "regression", or a family's own task name
    input_shape: tuple
    num_classes: int | None = None
    class_names: tuple = ()
    splits: dict = dataclasses.field(default_factory=dict)  # split -> examples
    description: str = ""
    #: Where a user's own files came from: ``{"ref", "name", "options", "fingerprint"}``
    #: (recorded in a run's config.json, so export and eval read the same data again).
    source: dict | None = None
    #: The token table of text inputs (a vocabulary's JSON), saved with a run and
    #: beside its .tflite files so a device encodes text with the training ids.
    vocabulary: dict | None = None
    #: Builder keywords this data implies, used when the builder takes them (input
    #: normalisation, a forecaster's scale, a text model's vocabulary size).
    model_kwargs: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Splits:
    """In-memory train/val/test arrays with their :class:`DatasetInfo`."""

    train: tuple
    val: tuple
    test: tuple
    info: DatasetInfo

    def dataset(self, split: str, *, batch_size: int, shuffle: bool = False, seed: int = 0) -> "tf.data.Dataset":
        """One split as the trainer reads it: batched arrays (:func:`to_dataset`).

        Data that is not a list of examples overrides this (a whole graph per step, or
        batches of small graphs merged into one: :mod:`tfmodels.data.graphs.splits`).
        """
        return to_dataset(*self[split], batch_size=batch_size, shuffle=shuffle, seed=seed)

    def steps(self, split: str, batch_size: int) -> int:
        """Batches of ``batch_size`` in one pass over ``split`` (what :meth:`dataset` yields)."""
        return -(-len(tf.nest.flatten(self[split][0])[0]) // batch_size)

    def __getitem__(self, split: str) -> tuple:
        if split == "train+val":
            return tuple(np.concatenate(p) for p in zip(self.train, self.val))
        if split not in SPLITS:
            raise UnknownNameError("split", split, SPLITS + ("train+val",))
        return getattr(self, split)


@dataclasses.dataclass(frozen=True)
class _Source:
    loader: Callable  # (data_dir) -> Splits
    description: str
    needs_data_dir: bool


_SOURCES: dict[str, _Source] = {}


def register_dataset(name: str, *, description: str, needs_data_dir: bool = False):
    """Decorator: register ``loader(data_dir) -> Splits`` under ``name``."""

    def wrap(fn):
        _SOURCES[name] = _Source(fn, description, needs_data_dir)
        return fn

    return wrap


def list_datasets() -> dict[str, str]:
    """Registered dataset names with their descriptions (``tfds:NAME`` also works)."""
    return {name: s.description for name, s in sorted(_SOURCES.items())}


def resolve_data_dir(data_dir=None, subdir: str = "") -> Path:
    """The directory holding local data: ``data_dir``, else ``$TFMODELS_DATA_DIR``."""
    root = data_dir or os.environ.get("TFMODELS_DATA_DIR")
    if not root:
        raise DataError(
            "this dataset is read from local files: pass data_dir=... (CLI: --data-dir) "
            "or set TFMODELS_DATA_DIR to the folder that holds them"
        )
    path = Path(root).expanduser() / subdir
    if not path.exists():
        raise DataError(f"data folder not found: {path}")
    return path


@functools.lru_cache(maxsize=16)
def _cached(name: str, data_dir, options: tuple) -> Splits:
    if name.startswith("tfds:"):
        from tfmodels.data.tfds import load_tfds

        return load_tfds(name.removeprefix("tfds:"), data_dir)
    if name in _SOURCES:
        if options:
            raise DataError(f"{name} is a registered dataset; options such as "
                            f"{', '.join(k for k, _ in options)} are for your own files")
        return _SOURCES[name].loader(data_dir)
    raise UnknownNameError("dataset", name, list(_SOURCES) + ["tfds:NAME", "a folder of images or a .csv file"])


def looks_like_path(ref: str) -> bool:
    """Whether ``--data`` names the user's own files rather than a registered dataset."""
    return ref not in _SOURCES and (os.sep in ref or "." in Path(ref).name or Path(ref).exists())


def load_splits(name: str, data_dir=None, **options) -> Splits:
    """All splits of a dataset as numpy arrays (loaded once, then cached).

    ``name`` is a registered dataset (``tfmodels datasets``), ``tfds:NAME``, or the
    path of your own data (:mod:`tfmodels.data.own`: a folder of images, one subfolder
    per class, or of graphs in TU or Planetoid format, or a .csv/.tsv file), read with
    ``options`` (``image_size``, ``target``, ``text``, ``column``, ``window``, ``edges``,
    ...) each time: files can change, a cache would not.
    """
    if looks_like_path(str(name)):
        from tfmodels.data.own import open_path

        return open_path(name, **options)
    frozen = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in options.items()))
    return _cached(str(name), str(data_dir) if data_dir else None, frozen)


def info(name: str, data_dir=None) -> DatasetInfo:
    return load_splits(name, data_dir).info


def load_arrays(name: str, split: str = "train", data_dir=None) -> tuple:
    """``(x, y)`` numpy arrays of one split."""
    return load_splits(name, data_dir)[split]


def to_dataset(x, y=None, *, batch_size: int, shuffle: bool = False, seed: int = 0,
               drop_remainder: bool = False) -> "tf.data.Dataset":
    """Arrays -> shuffled (optionally), batched, prefetched dataset, sharded by DATA.

    In-memory arrays are split across workers element-wise (``AutoShardPolicy.DATA``):
    file sharding means nothing for them, and saying so avoids tf.distribute's
    warning-and-fallback on every multi-worker run. Every tfmodels dataset (TFDS too) is
    loaded into arrays, so this is the one policy the package uses.
    """
    ds = tf.data.Dataset.from_tensor_slices(x if y is None else (x, y))
    if shuffle:
        examples = len(tf.nest.flatten(x)[0])  # x may be a dict or tuple of inputs
        ds = ds.shuffle(examples, seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)
    return ds.with_options(in_memory_options())


def in_memory_options(shard: str = "DATA") -> "tf.data.Options":
    """Options of a pipeline over in-memory data: deterministic, sharded by ``shard``
    (an ``AutoShardPolicy`` name), default rewrites off. As Keras does for arrays: the
    rewrites would serialize the captured arrays with the pipeline graph at every
    epoch's iterator, and there is nothing to fuse."""
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = getattr(tf.data.experimental.AutoShardPolicy, shard)
    options.deterministic = True
    options.experimental_optimization.apply_default_optimizations = False
    return options


def load(name: str, split: str = "train", *, batch_size: int = 32, data_dir=None,
         shuffle: bool | None = None, seed: int = 0):
    """``(dataset, info)``: one split batched and prefetched; shuffled if training."""
    splits = load_splits(name, data_dir)
    x, y = splits[split]
    shuffle = split.startswith("train") if shuffle is None else shuffle
    return to_dataset(x, y, batch_size=batch_size, shuffle=shuffle, seed=seed), splits.info


def partition(x, y, *, val: float, test: float, seed: int = 0):
    """Stratified, seeded train/val/test partition of one labelled array pair."""
    from sklearn.model_selection import train_test_split

    x_rest, x_test, y_rest, y_test = train_test_split(
        x, y, test_size=test, stratify=y, random_state=seed)
    x_train, x_val, y_train, y_val = train_test_split(
        x_rest, y_rest, test_size=val / (1 - test), stratify=y_rest, random_state=seed)
    return (x_train, y_train), (x_val, y_val), (x_test, y_test)


def from_arrays(x, y, *, name: str = "arrays", task: str | None = None, class_names=(),
                val: float = 0.1, test: float = 0.1, seed: int = 0) -> Splits:
    """Arrays you already have -> seeded train/val/test :class:`Splits` for ``train.fit``.

    ``task`` defaults to classification for integer labels (stratified split; class
    names ``class_names`` or "0", "1", ...), else regression (shuffled split).
    """
    x, y = np.asarray(x), np.asarray(y)
    if len(x) != len(y):
        raise DataError(f"x has {len(x)} examples but y has {len(y)}")
    if task is None:
        task = "classification" if np.issubdtype(y.dtype, np.integer) else "regression"
    if task == "classification":
        train, val_, test_ = stratified(x, y.astype(np.int32), val=val, test=test, seed=seed)
        return make_splits(name, train, val_, test_, class_names=class_names,
                           num_classes=len(class_names) or None)
    return make_splits(name, *shuffled(x, y.astype(np.float32).reshape(len(y), -1), val=val, test=test,
                                       seed=seed), task=task)


def shuffled(x, y, *, val: float, test: float, seed: int = 0):
    """Seeded, unstratified train/val/test partition (for targets that are not classes)."""
    order = np.random.default_rng(seed).permutation(len(x))
    n_test, n_val = int(round(len(x) * test)), int(round(len(x) * val))
    parts = np.split(order, [len(x) - n_test - n_val, len(x) - n_test])
    return tuple((x[p], y[p]) for p in parts)


def stratified(x, y, *, val: float, test: float, seed: int = 0):
    """:func:`partition` with a DataError that says how many examples each class needs."""
    try:
        return partition(x, y, val=val, test=test, seed=seed)
    except ValueError as e:  # sklearn: a class too small to appear in every split
        counts = np.bincount(y)
        raise DataError(f"cannot split {len(y)} examples of {len(counts)} classes into train/val/test "
                        f"(val={val}, test={test}; smallest class: {counts.min()}): give each class more "
                        f"examples, at least {len(counts)} in each split ({e})") from None


def make_splits(name, train, val, test, *, task="classification", num_classes=None,
                class_names=(), description="", source=None, vocabulary=None,
                model_kwargs=None) -> Splits:
    """Build :class:`Splits` with its info derived from the arrays."""
    if task == "classification" and num_classes is None:
        num_classes = int(max(train[1].max(), test[1].max()) + 1)
        class_names = class_names or tuple(str(i) for i in range(num_classes))
    info_ = DatasetInfo(
        name=name, task=task, input_shape=tuple(train[0].shape[1:]),
        num_classes=num_classes, class_names=tuple(class_names),
        splits={"train": len(train[0]), "val": len(val[0]), "test": len(test[0])},
        description=description, source=source, vocabulary=vocabulary,
        model_kwargs=dict(model_kwargs or {}),
    )
    return Splits(train, val, test, info_)
