"""TU-format graph-classification datasets (MUTAG, PROTEINS, any TU folder): text files.

``DS_A.txt`` (edges, 1-based node ids), ``DS_graph_indicator.txt``,
``DS_graph_labels.txt``, optional ``DS_node_labels.txt`` (one-hot encoded as
features, as in the GIN paper) and ``DS_node_attributes.txt`` (appended).
MUTAG and PROTEINS download on first use; any other TU folder is read by path.
"""
from pathlib import Path

import numpy as np

from tfmodels.data.core import resolve_data_dir
from tfmodels.data.download import FILES, fetch
from tfmodels.data.graphs.core import Graph, GraphCollection
from tfmodels.errors import DataError


def _read(path, dtype, required=True):
    if not path.exists():
        if required:
            raise DataError(f"TU file missing: {path}")
        return None
    try:
        return np.loadtxt(path, delimiter=",", dtype=dtype, ndmin=1)
    except ValueError as e:
        raise DataError(f"{path}: expected comma-separated numbers ({e})") from e


def tu_folder_name(folder) -> str | None:
    """The dataset name ``DS`` of a folder holding ``DS_A.txt`` and ``DS_graph_indicator.txt``."""
    folder = Path(folder)
    if not folder.is_dir():
        return None
    names = sorted(p.name[:-len("_A.txt")] for p in folder.glob("*_A.txt")
                   if (folder / p.name.replace("_A.txt", "_graph_indicator.txt")).is_file())
    return names[0] if len(names) == 1 else None


def load_tu(name, data_dir=None, *, node_attributes: bool = False) -> GraphCollection:
    """All graphs of ``<data_dir>/tu/<name>`` (or of the TU folder ``name`` is a path
    to); labels mapped to 0..C-1. MUTAG and PROTEINS download if missing.

    A graph without edges is refused (every model here passes messages along edges).
    """
    if tu_folder_name(name):
        folder = Path(name)
        name = tu_folder_name(folder)
    elif str(name).lower() in FILES and str(name) in ("MUTAG", "PROTEINS"):
        folder = fetch(str(name).lower(), data_dir)
    else:
        folder = resolve_data_dir(data_dir, f"tu/{name}")
        if tu_folder_name(folder) != name:
            raise DataError(f"{folder} is not a TU folder: expected {name}_A.txt and "
                            f"{name}_graph_indicator.txt in it")
    edges = _read(folder / f"{name}_A.txt", np.int64).reshape(-1, 2) - 1
    indicator = _read(folder / f"{name}_graph_indicator.txt", np.int64) - 1
    raw_labels = _read(folder / f"{name}_graph_labels.txt", np.int64)
    node_labels = _read(folder / f"{name}_node_labels.txt", np.int64, required=False)
    n = len(indicator)
    if not len(edges):
        raise DataError(f"{folder / f'{name}_A.txt'}: no edges")
    if edges.min() < 0 or edges.max() >= n:
        bad = int(np.argmax((edges < 0).any(1) | (edges >= n).any(1)))
        raise DataError(f"{folder / f'{name}_A.txt'}: row {bad + 1} names node {int(edges[bad].max()) + 1}, "
                        f"beyond the {n} nodes of {name}_graph_indicator.txt")
    if np.any(np.diff(indicator) < 0) or indicator.min() < 0 or indicator.max() >= len(raw_labels):
        raise DataError(f"{folder / f'{name}_graph_indicator.txt'}: expected graph ids 1..{len(raw_labels)} "
                        f"in ascending order (one per node)")
    if node_labels is not None and len(node_labels) != n:
        raise DataError(f"{folder / f'{name}_node_labels.txt'}: {len(node_labels)} lines for {n} nodes")
    crossing = indicator[edges[:, 0]] != indicator[edges[:, 1]]
    if crossing.any():
        bad = int(np.argmax(crossing))
        raise DataError(f"{folder / f'{name}_A.txt'}: row {bad + 1} joins nodes of graphs "
                        f"{indicator[edges[bad, 0]] + 1} and {indicator[edges[bad, 1]] + 1}")
    parts = []
    if node_labels is not None:
        values = np.unique(node_labels)
        parts.append((node_labels[:, None] == values[None]).astype(np.float32))
    if node_attributes:
        attrs = _read(folder / f"{name}_node_attributes.txt", np.float32)
        if attrs.size % n:
            raise DataError(f"{folder / f'{name}_node_attributes.txt'}: {attrs.size} values do not "
                            f"divide into {n} nodes")
        parts.append(attrs.reshape(n, -1))
    x = np.concatenate(parts, 1) if parts else np.ones((n, 1), np.float32)
    classes, labels = np.unique(raw_labels, return_inverse=True)
    starts = np.searchsorted(indicator, np.arange(len(raw_labels) + 1))
    edge_graph = indicator[edges[:, 0]]
    graphs = []
    counts = np.bincount(edge_graph, minlength=len(raw_labels))
    for g in range(len(raw_labels)):
        lo, hi = starts[g], starts[g + 1]
        if hi == lo:
            raise DataError(f"{folder / f'{name}_graph_labels.txt'}: graph {g + 1} (line {g + 1}) has no nodes")
        if counts[g] == 0:
            raise DataError(f"{folder / f'{name}_A.txt'}: graph {g + 1} (line {g + 1} of "
                            f"{name}_graph_labels.txt) has no edges")
        e = edges[edge_graph == g] - lo
        graphs.append(Graph(node_features=x[lo:hi], source=e[:, 0].astype(np.int32),
                            target=e[:, 1].astype(np.int32), label=int(labels[g]), name=f"{name}[{g}]"))
    return GraphCollection(tuple(graphs), labels.astype(np.int32), len(classes), name)
