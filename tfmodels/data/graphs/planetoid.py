"""Planetoid citation graphs (Cora) in their original pickled format, read safely.

The standard semi-supervised split of Kipf & Welling (2017) and Yang et al. (2016):
the 140 labelled training nodes (20 per class), the next 500 for validation and the
1000 test nodes, whose rows the files store in a shuffled order (``test.index``).
"""
import numpy as np
import scipy.sparse as sp

from tfmodels.data.core import resolve_data_dir
from tfmodels.data.graphs.core import Graph, NodeSplit
from tfmodels.data.graphs.safe_pickle import restricted_load
from tfmodels.errors import DataError

PARTS = ("x", "y", "tx", "ty", "allx", "ally", "graph")


def load_planetoid(name: str = "cora", data_dir=None, *, normalize_features: bool = True,
                   sparse: bool = False):
    """``NodeSplit`` of a Planetoid dataset from ``<data_dir>/planetoid/ind.<name>.*``.

    ``normalize_features`` row-normalizes the bag-of-words (as Kipf & Welling do).
    With ``sparse`` the features come back as a ``scipy.sparse.csr_matrix`` in a
    tuple ``(NodeSplit, features)``; the NodeSplit then holds them densely too.
    """
    folder = resolve_data_dir(data_dir, "planetoid")
    objs = {}
    for part in PARTS:
        path = folder / f"ind.{name}.{part}"
        if not path.exists():
            raise DataError(f"Planetoid file missing: {path} (expected ind.{name}.{{{','.join(PARTS)}}})")
        objs[part] = restricted_load(path.read_bytes(), source=str(path))
    test_index = np.loadtxt(folder / f"ind.{name}.test.index", dtype=np.int64)
    test_sorted = np.sort(test_index)

    features = sp.vstack([objs["allx"], objs["tx"]]).tolil()
    features[test_index, :] = features[test_sorted, :]
    labels = np.vstack([objs["ally"], objs["ty"]])
    labels[test_index, :] = labels[test_sorted, :]
    features = features.tocsr().astype(np.float32)
    if normalize_features:
        rowsum = np.asarray(features.sum(1)).ravel()
        features = sp.diags(np.where(rowsum > 0, 1.0 / np.maximum(rowsum, 1e-12), 0.0)) @ features
        features = features.tocsr().astype(np.float32)

    adjacency = objs["graph"]
    src = [s for s, nbrs in adjacency.items() for _ in nbrs]
    dst = [d for nbrs in adjacency.values() for d in nbrs]
    n = features.shape[0]
    a = sp.coo_matrix((np.ones(len(src)), (src, dst)), shape=(n, n)).tocsr()
    a = ((a + a.T) > 0).astype(np.int8).tocoo()  # symmetric, duplicates merged
    keep = a.row != a.col
    graph = Graph(node_features=features.toarray(), source=a.row[keep].astype(np.int32),
                  target=a.col[keep].astype(np.int32), node_labels=labels.argmax(1).astype(np.int32),
                  name=name)
    n_train = objs["y"].shape[0]
    split = NodeSplit(graph, np.arange(n_train), np.arange(n_train, n_train + 500), test_sorted,
                      num_classes=labels.shape[1])
    return (split, features) if sparse else split
