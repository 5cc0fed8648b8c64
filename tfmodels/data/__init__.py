"""Datasets: one name -> batched, prefetched ``tf.data.Dataset`` plus metadata.

    ds, info = tfmodels.data.load("digits", split="train", batch_size=64)
    x, y = tfmodels.data.load_arrays("usps", "test", data_dir="../shared/data")

    splits = tfmodels.data.from_directory("photos/", image_size=(96, 96))  # photos/<class>/*.jpg
    splits = tfmodels.data.from_csv("wine.csv", target="quality")
    splits = tfmodels.data.from_arrays(x, y)
    splits = tfmodels.data.from_csv("papers.csv", target="topic", edges="cites.csv")  # a graph's nodes
    splits = tfmodels.data.from_graph_folder("MY_TU_DATASET/")   # TU or Planetoid files

Sources: data that installs with the dependencies (``digits``), public datasets in
their original formats, downloaded once (``usps``, ``mnist``; kept in ``data_dir`` or
``$TFMODELS_DATA_DIR``), TensorFlow Datasets (``tfds:NAME``), and your own files
(:mod:`tfmodels.data.own`; ``load_splits`` and ``tfmodels train --data`` take their path).
Every classification source has ``train``, ``val`` and ``test`` splits.
"""
from tfmodels.data.core import (
    DatasetInfo,
    Splits,
    from_arrays,
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
from tfmodels.data.own import from_csv, from_directory, from_graph_folder

__all__ = [
    "DatasetInfo", "Splits", "from_arrays", "from_csv", "from_directory", "from_graph_folder", "info",
    "list_datasets", "load", "load_arrays",
    "load_splits", "register_dataset", "resolve_data_dir", "to_dataset",
]
