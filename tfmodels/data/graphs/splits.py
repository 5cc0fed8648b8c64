"""Graph data as the trainer's :class:`~tfmodels.data.core.Splits`, so GNNs train through ``train.fit``.

    splits = node_splits("cora", tfmodels.data.graphs.load_planetoid("cora", data_dir))
    tfmodels.train.fit("gcn", splits)            # what `tfmodels train gcn --data cora` does

Node classification trains full-batch, as in Kipf & Welling (2017): every split is the
whole graph, ``x`` the model inputs (``node_features [1, N, F]``, ``source [1, E]``,
``target [1, E]``) and ``y`` the node labels with -1 for nodes outside the split, so one
step per epoch sees the graph and learns from the split's nodes only (each of them
weighted ``N / count``, which makes Keras' mean over all N nodes the mean over the
split's). Graph classification shuffles each split's graphs into batches merged into
one graph of components (``graph_ids``), ``y`` the graph labels. Link prediction
(:class:`PairSplits`) scores pairs of nodes, fresh negatives drawn every epoch. All are
plain arrays in the model's input order, so export, eval and the edge kit read them
like any other.
"""
import dataclasses
import itertools
from typing import Callable

import numpy as np

from tfmodels._keras import tf
from tfmodels.data.core import DatasetInfo, Splits, in_memory_options
from tfmodels.data.graphs.core import INPUT_NAMES, GraphCollection, NodeSplit, batch_graphs
from tfmodels.errors import DataError

UNLABELLED = -1  # the label of a node outside a split


def _options() -> "tf.data.Options":
    """One graph (or merged batch) per step cannot be split over workers: no sharding."""
    return in_memory_options(shard="OFF")


@dataclasses.dataclass(frozen=True)
class NodeSplits(Splits):
    """One graph, its nodes split into train/val/test (labels -1 outside each split)."""

    def dataset(self, split, *, batch_size, shuffle=False, seed=0):
        x, y = self[split]
        known = y != UNLABELLED
        weights = known.astype(np.float32) * (len(y) / max(int(known.sum()), 1))
        element = (dict(zip(INPUT_NAMES, x)), np.where(known, y, 0).astype(np.int32), weights)
        return tf.data.Dataset.from_tensors(element).with_options(_options())

    def steps(self, split, batch_size):
        return 1


def node_splits(name: str, split: NodeSplit, *, class_names=(), description: str = "",
                source=None) -> NodeSplits:
    """:class:`NodeSplits` of a :class:`~tfmodels.data.graphs.NodeSplit`."""
    g = split.graph
    x = [g.node_features[None].astype(np.float32), g.source[None].astype(np.int32),
         g.target[None].astype(np.int32)]
    parts = {}
    for part in ("train", "val", "test"):
        idx = np.asarray(getattr(split, part), np.int64)
        if not len(idx):
            raise DataError(f"{name}: the {part} split has no labelled nodes")
        y = np.full(g.num_nodes, UNLABELLED, np.int32)
        y[idx] = g.node_labels[idx]
        parts[part] = (x, y)
    info = DatasetInfo(name=name, task="node_classification", input_shape=(g.node_features.shape[1],),
                       num_classes=split.num_classes,
                       class_names=tuple(class_names) or tuple(map(str, range(split.num_classes))),
                       splits={p: int(len(getattr(split, p))) for p in parts},
                       description=description, source=source, model_kwargs={"task": "node"})
    return NodeSplits(parts["train"], parts["val"], parts["test"], info)


@dataclasses.dataclass(frozen=True)
class GraphSplits(Splits):
    """Labelled small graphs split into train/val/test; batches merge graphs into components.

    ``x`` of each split is all its graphs merged (what export calibrates on and eval
    runs); training reads shuffled batches of ``batch_size`` graphs instead.
    """

    collection: GraphCollection | None = None
    indices: dict = dataclasses.field(default_factory=dict)  # split -> graph indices

    def dataset(self, split, *, batch_size, shuffle=False, seed=0):
        graphs, idx = self.collection.graphs, np.asarray(self.indices[split])
        width = graphs[0].node_features.shape[1]
        epochs = itertools.count()  # a new order every epoch, the same for the same seed

        def batches():
            order = np.random.default_rng([seed, next(epochs)]).permutation(idx) if shuffle else idx
            for lo in range(0, len(order), batch_size):
                batch = batch_graphs([graphs[i] for i in order[lo:lo + batch_size]])
                yield batch.inputs(with_graph_ids=True), batch.label.astype(np.int32)

        signature = ({"node_features": tf.TensorSpec((1, None, width), tf.float32),
                      **{k: tf.TensorSpec((1, None), tf.int32) for k in INPUT_NAMES[1:]}},
                     tf.TensorSpec((None,), tf.int32))
        ds = tf.data.Dataset.from_generator(batches, output_signature=signature)
        ds = ds.apply(tf.data.experimental.assert_cardinality(self.steps(split, batch_size)))
        return ds.prefetch(2).with_options(_options())

    def steps(self, split, batch_size):
        return -(-len(self.indices[split]) // batch_size)


def graph_splits(name: str, collection: GraphCollection, train, val, test, *, class_names=(),
                 description: str = "", source=None) -> GraphSplits:
    """:class:`GraphSplits` of a collection with the graph indices of each split."""
    indices = {"train": np.asarray(train), "val": np.asarray(val), "test": np.asarray(test)}
    parts = {}
    for part, idx in indices.items():
        if not len(idx):
            raise DataError(f"{name}: the {part} split has no graphs")
        batch = batch_graphs([collection.graphs[i] for i in idx])
        inputs = batch.inputs(with_graph_ids=True)
        parts[part] = ([inputs[k] for k in INPUT_NAMES], collection.labels[idx].astype(np.int32))
    k = collection.num_classes
    info = DatasetInfo(name=name, task="graph_classification",
                       input_shape=(collection.graphs[0].node_features.shape[1],), num_classes=k,
                       class_names=tuple(class_names) or tuple(map(str, range(k))),
                       splits={p: int(len(i)) for p, i in indices.items()},
                       description=description, source=source, model_kwargs={"task": "graph"})
    return GraphSplits(parts["train"], parts["val"], parts["test"], info, collection, indices)


def tu_splits(name: str, collection: GraphCollection, *, seed: int = 0, **kwargs) -> GraphSplits:
    """A seeded stratified 80/10/10 split of a graph collection (the first of 10 folds for
    test, a ninth of the rest for validation)."""
    train_val, test = collection.folds(10, seed)[0]
    rest = GraphCollection(tuple(collection.graphs[i] for i in train_val), collection.labels[train_val],
                           collection.num_classes)
    tr, va = rest.folds(9, seed=seed + 1)[0]
    return graph_splits(name, collection, train_val[tr], train_val[va], test, **kwargs)


@dataclasses.dataclass(frozen=True)
class PairSplits(Splits):
    """Scored pairs of one graph (links, user-item interactions): positives against negatives.

    Each split's ``x`` is the graph's inputs followed by ``pairs [1, P, 2]``, ``y`` 1 for
    a positive pair and 0 for a negative one. Training draws fresh negatives every epoch
    (``negatives(rng, count) -> [count, 2]``, pairs that are no known positive), as
    many as there are training positives; validation and test keep fixed negatives.
    """

    input_names: tuple = ()
    negatives: Callable | None = None

    def dataset(self, split, *, batch_size, shuffle=False, seed=0):
        x, y = self[split]
        if split != "train":
            return tf.data.Dataset.from_tensors((dict(zip(self.input_names, x)), y)).with_options(_options())
        positives = x[-1][0][y == 1]
        labels = np.r_[np.ones(len(positives)), np.zeros(len(positives))].astype(np.float32)
        epochs = itertools.count()

        def draw():
            negatives = self.negatives(np.random.default_rng([seed, next(epochs)]), len(positives))
            yield dict(zip(self.input_names, [*x[:-1], np.concatenate([positives, negatives])[None]])), labels

        signature = ({name: tf.TensorSpec(a.shape if name != "pairs" else (1, 2 * len(positives), 2),
                                          tf.as_dtype(a.dtype)) for name, a in zip(self.input_names, x)},
                     tf.TensorSpec(labels.shape, tf.float32))
        ds = tf.data.Dataset.from_generator(draw, output_signature=signature)
        return ds.apply(tf.data.experimental.assert_cardinality(1)).with_options(_options())

    def steps(self, split, batch_size):
        return 1


def pair_splits(name: str, graph_inputs: dict, pos: dict, neg: dict, negatives: Callable, *,
                task: str = "link_prediction", input_shape=(), model_kwargs=None, description: str = "",
                source=None) -> PairSplits:
    """:class:`PairSplits` from the graph's inputs (by name, batch 1) and each split's
    positive and negative pairs (``pos["train"]``, ``neg["val"]``, ...; ``neg["train"]``
    is the first epoch's draw, kept for export and eval)."""
    names = (*graph_inputs, "pairs")
    parts = {}
    for part in ("train", "val", "test"):
        pairs = np.concatenate([pos[part], neg[part]]).astype(np.int32)[None]
        y = np.r_[np.ones(len(pos[part])), np.zeros(len(neg[part]))].astype(np.float32)
        parts[part] = ([*(np.asarray(a) for a in graph_inputs.values()), pairs], y)
    info = DatasetInfo(name=name, task=task, input_shape=tuple(input_shape),
                       splits={p: int(len(pos[p]) + len(neg[p])) for p in parts}, description=description,
                       source=source, model_kwargs=dict(model_kwargs or {}))
    return PairSplits(parts["train"], parts["val"], parts["test"], info, names, negatives)


def link_splits(name: str, graph, *, val: float = 0.05, test: float = 0.10, seed: int = 0, **kwargs) -> PairSplits:
    """Link prediction on ``graph`` (Kipf & Welling 2016's split, :func:`link_split`):
    message passing over the training edges, held-out edges against as many non-edges."""
    from tfmodels.data.graphs.core import link_split, sample_negatives

    ls = link_split(graph, val=val, test=test, seed=seed)
    known = {(int(a), int(b)) for a, b in np.concatenate([ls.train_pos, ls.val_pos, ls.test_pos])}
    first = sample_negatives(graph.num_nodes, len(ls.train_pos), known, np.random.default_rng([seed, 0]))
    return pair_splits(name, ls.train_graph.inputs(), {"train": ls.train_pos, "val": ls.val_pos, "test": ls.test_pos},
                       {"train": first, "val": ls.val_neg, "test": ls.test_neg},
                       lambda rng, count: sample_negatives(graph.num_nodes, count, known, rng),
                       input_shape=(graph.node_features.shape[1],), **kwargs)


def holdout_interactions(pairs, num_users: int, *, test: float = 0.2, seed: int = 0):
    """``(train, held)``: ``test`` of each user's interactions held out (each user keeps at
    least one in train)."""
    rng = np.random.default_rng(seed)
    train, held = [], []
    for u in range(num_users):
        mine = pairs[pairs[:, 0] == u]
        mine = mine[rng.permutation(len(mine))]
        k = min(int(round(test * len(mine))), len(mine) - 1)
        held.append(mine[:k])
        train.append(mine[k:])
    return np.concatenate(train), np.concatenate(held)


def interaction_splits(name: str, pairs, num_users: int, num_items: int, *, test: float = 0.2,
                       seed: int = 0, description: str = "") -> PairSplits:
    """User-item recommendation as pair scoring: messages pass over the training
    interactions (``source`` users -> ``target`` items); the held-out ones are scored
    against as many never-seen pairs. Validation and test are the same held-out pairs
    (a small bipartite graph cannot spare two hold-outs), so train with ``select="last"``:
    nothing is chosen on them."""
    pairs = np.asarray(pairs, np.int32)
    train, held = holdout_interactions(pairs, num_users, test=test, seed=seed)
    seen = {(int(u), int(i)) for u, i in pairs}
    unseen = np.array([(u, i) for u in range(num_users) for i in range(num_items) if (u, i) not in seen], np.int32)
    rng = np.random.default_rng(seed)
    draw = lambda rng, count: unseen[rng.choice(len(unseen), count, replace=len(unseen) < count)]  # noqa: E731
    held_neg = draw(rng, len(held))
    graph = {"source": train[None, :, 0], "target": train[None, :, 1]}
    return pair_splits(name, graph, {"train": train, "val": held, "test": held},
                       {"train": draw(rng, len(train)), "val": held_neg, "test": held_neg}, draw,
                       task="recommendation", model_kwargs={"num_users": num_users, "num_items": num_items}, description=description)
