"""Datasets: one name -> batched, prefetched ``tf.data.Dataset`` plus metadata.

    ds, info = tfmodels.data.load("digits", split="train", batch_size=64)
    x, y = tfmodels.data.load_arrays("usps", "test", data_dir="../shared/data")

Sources: data that installs with the dependencies (``digits``), local files in their
original formats (``usps``, ``mnist-test``; path from ``data_dir`` or the
``TFMODELS_DATA_DIR`` environment variable) and TensorFlow Datasets (``tfds:NAME``).
Every classification source has ``train``, ``val`` and ``test`` splits.
"""
from tfmodels.data.core import (
    DatasetInfo,
    Splits,
    info,
    list_datasets,
    load,
    load_arrays,
    load_splits,
    register_dataset,
    resolve_data_dir,
    to_dataset,
)
from tfmodels.data import images as _images  # noqa: F401  (registers image sources)
from tfmodels.data import graphs as _graphs  # noqa: F401  (registers graph sources)
from tfmodels.data import text as _text, series as _series  # noqa: F401  (text and series sources)
from tfmodels.data import vision_tasks as _vision_tasks  # noqa: F401  (localization and segmentation sources)
from tfmodels.data import digit_sets as _digit_sets  # noqa: F401  (sets of digits for DeepSets)

__all__ = [
    "DatasetInfo", "Splits", "info", "list_datasets", "load", "load_arrays",
    "load_splits", "register_dataset", "resolve_data_dir", "to_dataset",
]
