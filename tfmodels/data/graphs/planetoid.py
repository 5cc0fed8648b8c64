"""Planetoid citation graphs (Cora, Citeseer, PubMed) in their original pickled format.

The standard semi-supervised split of Kipf & Welling (2017) and Yang et al. (2016):
the labelled training nodes (``y``: 20 per class), the next 500 for validation and the
1000 test nodes, whose rows the files store in a shuffled order (``test.index``).
Citeseer's test index skips 15 ids (isolated papers with no row in ``tx``); as in Kipf
& Welling's loader, ``tx``/``ty`` are extended with zero rows for the missing ids, so
those nodes exist with zero features and an all-zero label row (class 0 after
argmax), in no split.
Files are read with an allowlisting unpickler and download on first use.
"""
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from tfmodels.data.download import fetch
from tfmodels.data.graphs.core import Graph, NodeSplit
from tfmodels.data.graphs.safe_pickle import restricted_load
from tfmodels.errors import DataError

PARTS = ("x", "y", "tx", "ty", "allx", "ally", "graph")


NAMES = ("cora", "citeseer", "pubmed")


def load_planetoid(name: str = "cora", data_dir=None, *, normalize_features: bool = True,
                   sparse: bool = False, folder=None):
    """``NodeSplit`` of a Planetoid dataset from ``<data_dir>/planetoid/ind.<name>.*``.

    ``cora``, ``citeseer`` and ``pubmed`` download there if missing; ``folder`` reads
    ``ind.<name>.*`` from that folder instead (any dataset in this format).

    ``normalize_features`` row-normalizes the bag-of-words (as Kipf & Welling do).
    With ``sparse`` the features come back as a ``scipy.sparse.csr_matrix`` in a
    tuple ``(NodeSplit, features)``; the NodeSplit then holds them densely too.
    """
    if folder is None:
        if name not in NAMES:
            raise DataError(f"unknown Planetoid dataset {name!r}: expected one of {NAMES}, "
                            "or folder= holding its ind.<name>.* files")
        folder = fetch(name, data_dir)
    folder = Path(folder)
    objs = {}
    for part in PARTS:
        path = folder / f"ind.{name}.{part}"
        if not path.exists():
            raise DataError(f"Planetoid file missing: {path} (expected ind.{name}.{{{','.join(PARTS)}}})")
        objs[part] = restricted_load(path.read_bytes(), source=str(path))
    index_path = folder / f"ind.{name}.test.index"
    try:
        test_index = np.loadtxt(index_path, dtype=np.int64, ndmin=1)
    except (OSError, ValueError) as e:
        raise DataError(f"{index_path}: expected one node id per line ({e})") from None
    test_sorted = np.sort(test_index)
    tx, ty = objs["tx"], np.asarray(objs["ty"])
    if len(test_index) != tx.shape[0] or len(test_index) != len(ty):
        raise DataError(f"{index_path}: {len(test_index)} test ids for {tx.shape[0]} rows of tx "
                        f"and {len(ty)} of ty")
    lo, hi = int(test_sorted[0]), int(test_sorted[-1])
    if hi - lo + 1 != len(test_index):  # gaps: ids of isolated nodes, absent from tx
        # Kipf & Welling: tx_extended[test_idx_range - min(test_idx_range)] = tx
        tx_ext = sp.lil_matrix((hi - lo + 1, tx.shape[1]), dtype=np.float32)
        tx_ext[test_sorted - lo, :] = tx
        ty_ext = np.zeros((hi - lo + 1, ty.shape[1]), ty.dtype)
        ty_ext[test_sorted - lo, :] = ty
        tx, ty = tx_ext, ty_ext

    features = sp.vstack([objs["allx"], tx]).tolil()
    if hi >= features.shape[0]:
        raise DataError(f"{index_path}: test id {hi} beyond the {features.shape[0]} rows of allx and tx")
    features[test_index, :] = features[test_sorted, :]
    labels = np.vstack([objs["ally"], ty])
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
    if src and max(max(src), max(dst)) >= n:
        raise DataError(f"{folder / f'ind.{name}.graph'}: node {max(max(src), max(dst))} beyond "
                        f"the {n} nodes of the feature rows")
    a = sp.coo_matrix((np.ones(len(src)), (src, dst)), shape=(n, n)).tocsr()
    a = ((a + a.T) > 0).astype(np.int8).tocoo()  # symmetric, duplicates merged
    keep = a.row != a.col
    graph = Graph(node_features=features.toarray(), source=a.row[keep].astype(np.int32),
                  target=a.col[keep].astype(np.int32), node_labels=labels.argmax(1).astype(np.int32),
                  name=name)
    n_train = objs["y"].shape[0]
    n_val_end = min(n_train + 500, objs["ally"].shape[0])
    split = NodeSplit(graph, np.arange(n_train), np.arange(n_train, n_val_end), test_sorted,
                      num_classes=labels.shape[1])
    return (split, features) if sparse else split
