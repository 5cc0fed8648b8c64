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


@dataclasses.dataclass(frozen=True)
class Splits:
    """In-memory train/val/test arrays with their :class:`DatasetInfo`."""

    train: tuple
    val: tuple
    test: tuple
    info: DatasetInfo

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
def _cached(name: str, data_dir) -> Splits:
    if name.startswith("tfds:"):
        from tfmodels.data.tfds import load_tfds

        return load_tfds(name.removeprefix("tfds:"), data_dir)
    if name not in _SOURCES:
        raise UnknownNameError("dataset", name, list(_SOURCES) + ["tfds:NAME"])
    return _SOURCES[name].loader(data_dir)


def load_splits(name: str, data_dir=None) -> Splits:
    """All splits of dataset ``name`` as numpy arrays (loaded once, then cached)."""
    return _cached(name, str(data_dir) if data_dir else None)


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
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    options.deterministic = True
    # As Keras does for arrays: the rewrites would serialize the captured arrays with
    # the pipeline graph at every epoch's iterator, and there is nothing to fuse.
    options.experimental_optimization.apply_default_optimizations = False
    return ds.with_options(options)


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


def make_splits(name, train, val, test, *, task="classification", num_classes=None,
                class_names=(), description="") -> Splits:
    """Build :class:`Splits` with its info derived from the arrays."""
    if task == "classification" and num_classes is None:
        num_classes = int(max(train[1].max(), test[1].max()) + 1)
        class_names = class_names or tuple(str(i) for i in range(num_classes))
    info_ = DatasetInfo(
        name=name, task=task, input_shape=tuple(train[0].shape[1:]),
        num_classes=num_classes, class_names=tuple(class_names),
        splits={"train": len(train[0]), "val": len(val[0]), "test": len(test[0])},
        description=description,
    )
    return Splits(train, val, test, info_)
