"""Protocols over many trainings of the GNN models, and sparse node features.

Every training goes through ``tfmodels.train.fit`` (graph data as trainer splits:
:mod:`tfmodels.data.graphs.splits`); what is here is what a single ``fit`` is not:
:func:`cross_validate` runs Xu et al. (2019)'s 10-fold protocol for graph
classification, :func:`fair_cross_validate` the protocol of Errica et al. (2020) that
chooses inside each fold what Xu et al. choose on the test folds, and :func:`sparse_node_features` gives bag-of-words features as the
``tf.SparseTensor`` a model built with ``sparse_features=True`` takes.
"""
import numpy as np

from tfmodels._keras import keras, tf
from tfmodels.data.graphs import GraphCollection, graph_splits


def sparse_node_features(features, dtype=tf.float32) -> "tf.SparseTensor":
    """A ``scipy.sparse`` matrix ``[N, F]`` -> ``tf.SparseTensor [1, N, F]`` (for ``sparse_features``)."""
    coo = features.tocoo()
    idx = np.stack([np.zeros_like(coo.row), coo.row, coo.col], 1).astype(np.int64)
    order = np.lexsort((idx[:, 2], idx[:, 1]))
    return tf.SparseTensor(idx[order], tf.constant(coo.data[order], dtype), [1, *coo.shape])


def cross_validate(name: str, collection: GraphCollection, *, folds: int = 10, seed: int = 0,
                   epochs: int = 350, **fit_kw) -> dict:
    """Xu et al.'s protocol: train ``name`` on each of ``folds`` stratified folds, the
    held-out fold's accuracy recorded after every epoch (as the validation split).

    Reports the accuracy at the single epoch whose mean over the folds is best (the GIN
    paper's figure: the epoch is chosen on the held-out folds themselves, so it is
    optimistic) and the last epoch's. ``fit_kw`` go to ``tfmodels.train.fit`` (batch
    size, learning rate, schedule: the model's paper setup unless given).
    """
    from tfmodels import train

    curves = []
    for k, (train_idx, test_idx) in enumerate(collection.folds(folds, seed)):
        keras.backend.clear_session()
        splits = graph_splits(collection.name or "graphs", collection, train_idx, test_idx, test_idx)
        result = train.fit(name, splits, epochs=epochs, select="last", seed=seed + k, verbose=0, **fit_kw)
        curves.append(result.metrics["history"]["val_accuracy"])
    curves = np.array(curves)
    best = int(curves.mean(0).argmax())
    return {"cv_accuracy_mean": float(curves[:, best].mean()), "cv_accuracy_std": float(curves[:, best].std()),
            "best_epoch": best, "last_epoch_accuracy_mean": float(curves[:, -1].mean()),
            "last_epoch_accuracy_std": float(curves[:, -1].std()), "folds": folds}


def fair_cross_validate(name: str, collection: GraphCollection, *, folds: int = 10, seed: int = 0,
                        epochs: int = 350, val_share: float = 0.1, **fit_kw) -> dict:
    """Errica et al. (2020, "A fair comparison of graph neural networks for graph
    classification")'s protocol: in each of ``folds`` stratified outer folds, a
    stratified ``val_share`` of the training graphs is held out for model selection
    (here: the epoch, by validation accuracy), and the outer fold, never seen while
    choosing, gives the test accuracy. What a user can expect on new graphs, unlike
    :func:`cross_validate`'s epoch picked on the test folds.
    """
    from sklearn.model_selection import train_test_split

    from tfmodels import train

    tests, chosen = [], []
    for k, (train_idx, test_idx) in enumerate(collection.folds(folds, seed)):
        keras.backend.clear_session()
        fit_idx, val_idx = train_test_split(train_idx, test_size=val_share, random_state=seed + k,
                                            stratify=collection.labels[train_idx])
        splits = graph_splits(collection.name or "graphs", collection, fit_idx, val_idx, test_idx)
        result = train.fit(name, splits, epochs=epochs, select="val_accuracy", seed=seed + k, verbose=0, **fit_kw)
        tests.append(result.metrics["test_accuracy"])
        chosen.append(result.metrics["selected_epoch"])
    return {"fair_accuracy_mean": float(np.mean(tests)), "fair_accuracy_std": float(np.std(tests)),
            "fair_per_fold": [float(t) for t in tests], "fair_selected_epochs": chosen, "folds": folds,
            "val_share": val_share}
