"""TU-format graph-classification datasets (MUTAG, PROTEINS, ...): plain text files.

``DS_A.txt`` (edges, 1-based node ids), ``DS_graph_indicator.txt``,
``DS_graph_labels.txt``, optional ``DS_node_labels.txt`` (one-hot encoded as
features, as in the GIN paper) and ``DS_node_attributes.txt`` (appended).
"""
import numpy as np

from tfmodels.data.core import resolve_data_dir
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


def load_tu(name: str, data_dir=None, *, node_attributes: bool = False) -> GraphCollection:
    """All graphs of ``<data_dir>/tu/<name>``; labels mapped to 0..C-1."""
    folder = resolve_data_dir(data_dir, f"tu/{name}")
    edges = _read(folder / f"{name}_A.txt", np.int64).reshape(-1, 2) - 1
    indicator = _read(folder / f"{name}_graph_indicator.txt", np.int64) - 1
    raw_labels = _read(folder / f"{name}_graph_labels.txt", np.int64)
    node_labels = _read(folder / f"{name}_node_labels.txt", np.int64, required=False)
    n = len(indicator)
    if edges.max() >= n:
        raise DataError(f"{name}: edge endpoint {edges.max() + 1} beyond the {n} nodes of graph_indicator")
    parts = []
    if node_labels is not None:
        values = np.unique(node_labels)
        parts.append((node_labels[:, None] == values[None]).astype(np.float32))
    if node_attributes:
        attrs = _read(folder / f"{name}_node_attributes.txt", np.float32)
        parts.append(attrs.reshape(n, -1))
    x = np.concatenate(parts, 1) if parts else np.ones((n, 1), np.float32)
    classes, labels = np.unique(raw_labels, return_inverse=True)
    starts = np.searchsorted(indicator, np.arange(len(raw_labels) + 1))
    edge_graph = indicator[edges[:, 0]]
    graphs = []
    for g in range(len(raw_labels)):
        lo, hi = starts[g], starts[g + 1]
        e = edges[edge_graph == g] - lo
        graphs.append(Graph(node_features=x[lo:hi], source=e[:, 0].astype(np.int32),
                            target=e[:, 1].astype(np.int32), label=int(labels[g]), name=f"{name}[{g}]"))
    return GraphCollection(tuple(graphs), labels.astype(np.int32), len(classes), name)
