"""Graph data as the trainer's :class:`~tfmodels.data.core.Splits`, so GNNs train through ``train.fit``.

    splits = node_splits("cora", tfmodels.data.graphs.load_planetoid("cora", data_dir))
    tfmodels.train.fit("gcn", splits)            # what `tfmodels train gcn --data cora` does

Node classification trains full-batch, as in Kipf & Welling (2017): every split is the
whole graph, ``x`` the model inputs (``node_features [1, N, F]``, ``source [1, E]``,
``target [1, E]``) and ``y`` the node labels with -1 for nodes outside the split, so one
step per epoch sees the graph and learns from the split's nodes only (each of them
weighted ``N / count``, which makes Keras' mean over all N nodes the mean over the
split's). Graph classification shuffles each split's graphs into batches merged into
one graph of components (``graph_ids``), ``y`` the graph labels. Both are plain arrays
in the model's input order, so export, eval and the edge kit read them like any other.
"""
import dataclasses
import itertools

import numpy as np

from tfmodels._keras import tf
from tfmodels.data.core import DatasetInfo, Splits
from tfmodels.data.graphs.core import INPUT_NAMES, GraphCollection, NodeSplit, batch_graphs
from tfmodels.errors import DataError

UNLABELLED = -1  # the label of a node outside a split


def _options() -> "tf.data.Options":
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.OFF
    # As for arrays (tfmodels.data.core.to_dataset): the rewrites would serialize the
    # captured graph with the pipeline at every epoch's iterator, and there is nothing to fuse.
    options.experimental_optimization.apply_default_optimizations = False
    return options


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
