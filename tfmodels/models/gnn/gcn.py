"""GCN (Kipf & Welling, ICLR 2017): H' = act(D^-1/2 (A + I) D^-1/2 H W).

:class:`GCNConv` multiplies by ``W`` *before* aggregating (``A (H W)``), so messages
carry ``units`` numbers instead of the input width: on Cora 16 instead of 1433. TF-GNN's
own ``GCNConv`` aggregates first; ``implementation="tfgnn"`` uses it for comparison.
"""
import tensorflow_gnn as tfgnn
from tensorflow_gnn.models import gcn as tfgnn_gcn

from tfmodels._keras import keras, tf
from tfmodels.data.graphs import EDGES, NODES
from tfmodels.models.gnn._common import (
    GRAPHS, CLASSIFY_GRAPHS, NodeStates, ReplaceNodeStates, _serializable, build_gnn)
from tfmodels.registry import register

layers = keras.layers


@_serializable
class SparseDropoutDense(layers.Layer):
    """``dropout(X) @ W`` for node features ``X [1, N, F]``, sparse or dense -> ``[1, N, units]``.

    With a ``tf.SparseTensor`` (bag-of-words features are ~99% zeros) dropout touches
    only the stored values and the product is a sparse-dense matmul. Dense features
    take the same path in training (dropping a zero changes nothing, and one random
    number per stored value instead of per entry is most of a Cora step: 50 ms of 60
    measured on 2 cores); inference stays one dense matmul, what a device runs.
    """

    def __init__(self, units: int, rate: float = 0.0, kernel_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        self.units, self.rate = units, rate
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)

    def build(self, input_shape):
        self.kernel = self.add_weight(name="kernel", shape=(input_shape[-1], self.units),
                                      initializer="glorot_uniform", regularizer=self.kernel_regularizer)

    def call(self, x, training=None):
        if training and self.rate and not isinstance(x, tf.SparseTensor):
            x = tf.sparse.from_dense(x)
        if isinstance(x, tf.SparseTensor):
            n = x.dense_shape[1]
            x = tf.sparse.reshape(x, tf.stack([n, x.dense_shape[2]]))
            if training and self.rate:
                keep = tf.random.uniform(tf.shape(x.values)) >= self.rate
                x = tf.SparseTensor(x.indices, tf.where(keep, x.values / (1 - self.rate), 0.0), x.dense_shape)
            return tf.sparse.sparse_dense_matmul(x, self.kernel)[None]
        return tf.matmul(x, self.kernel)

    def get_config(self):
        return super().get_config() | {
            "units": self.units, "rate": self.rate,
            "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer)}


@_serializable
class GCNConv(layers.Layer):
    """One GCN layer on a homogeneous GraphTensor -> new node states ``[N, units]``.

    ``D^-1/2 (A + I) D^-1/2 (H W) + b``: transform first (``transform=False`` skips
    it, when a :class:`SparseDropoutDense` already did), then aggregate along the edges.
    """

    def __init__(self, units: int, activation=None, use_bias: bool = True, transform: bool = True,
                 kernel_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        self.units, self.use_bias, self.transform = units, use_bias, transform
        self.activation = keras.activations.get(activation)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.dense = (layers.Dense(units, use_bias=False, kernel_regularizer=self.kernel_regularizer,
                                   name="kernel") if transform else None)

    def build(self, input_shape):
        self.bias = self.add_weight(name="bias", shape=(self.units,), initializer="zeros") if self.use_bias else None

    def call(self, graph):
        x = graph.node_sets[NODES][tfgnn.HIDDEN_STATE]
        adj = graph.edge_sets[EDGES].adjacency
        n = tf.shape(x)[0]
        degree = tf.math.unsorted_segment_sum(tf.ones_like(adj.target, tf.float32), adj.target, n) + 1.0
        scale = tf.math.rsqrt(degree)[:, None]  # self-loops included in the degree
        h = (self.dense(x) if self.dense else x) * scale
        out = (tf.math.unsorted_segment_sum(tf.gather(h, adj.source), adj.target, n) + h) * scale
        if self.use_bias:
            out += self.bias
        return self.activation(out)

    def get_config(self):
        return super().get_config() | {
            "units": self.units, "use_bias": self.use_bias, "transform": self.transform,
            "activation": keras.activations.serialize(self.activation),
            "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer)}


@register(family="gnn", default_data="cora", edge_ready=True, inputs=GRAPHS, tasks=CLASSIFY_GRAPHS,
          training={"epochs": 200, "learning_rate": 0.01, "select": "val_accuracy"})  # Kipf & Welling
def gcn(*, input_shape=(1433,), num_classes=7, task="node", hidden_units=16, num_layers=2,
        dropout=0.5, weight_decay=5e-4, include_top=True, pooling="mean",
        classifier_activation="softmax", sparse_features=False, implementation="fast", name="gcn"):
    """Graph Convolutional Network (Kipf & Welling, ICLR 2017), 2 layers of 16 as on Cora.

    Symmetric normalization with self-loops; dropout before every layer; L2
    ``weight_decay`` on the first layer, as in the paper. With ``include_top`` the last
    GCN layer outputs the classes (node task); graph tasks add a readout (``pooling``)
    and a Dense classifier. ``sparse_features`` makes ``node_features`` a
    ``tf.SparseTensor`` input (same weights as the dense model: ``set_weights`` moves
    them). ``implementation="tfgnn"`` uses TF-GNN's ``GCNHomGraphUpdate`` (which
    aggregates the input features before transforming them) instead of :class:`GCNConv`.
    Default size (Cora: 1433 features, 7 classes): 23,063 parameters.
    """
    if implementation not in ("fast", "tfgnn"):
        raise ValueError(f"implementation must be 'fast' or 'tfgnn', given {implementation!r}")
    if sparse_features and implementation != "fast":
        raise ValueError("sparse_features needs implementation='fast'")
    node_top = include_top and task == "node"
    widths = [hidden_units] * (num_layers - 1) + [num_classes if node_top else hidden_units]
    reg = keras.regularizers.l2(weight_decay / 2) if weight_decay else None  # = wd * l2_loss

    def encode(x):  # layer 0's dropout and transform, on the raw (maybe sparse) features
        return SparseDropoutDense(widths[0], dropout, kernel_regularizer=reg, name="gcn_0_kernel")(x)

    def body(graph):
        h = None
        for i, units in enumerate(widths):
            activation = None if (i == len(widths) - 1 and node_top) else "relu"
            if i > 0:
                graph = ReplaceNodeStates(name=f"graph_{i}")(
                    [graph, layers.Dropout(dropout, name=f"dropout_{i}")(h) if dropout else h])
            if implementation == "fast":
                h = GCNConv(units, activation, transform=i > 0, name=f"gcn_{i}")(graph)
            else:
                if i == 0 and dropout:
                    graph = ReplaceNodeStates(name="graph_0")(
                        [graph, layers.Dropout(dropout, name="dropout_0")(NodeStates(name="states_0")(graph))])
                graph = tfgnn_gcn.GCNHomGraphUpdate(
                    units=units, add_self_loops=True, activation=activation or "linear",
                    kernel_regularizer=reg if i == 0 else None, name=f"gcn_{i}")(graph)
                h = NodeStates(name=f"out_{i}")(graph)
        return h

    top = include_top and not node_top
    model = build_gnn(body, encode=encode if implementation == "fast" else None,
                      sparse_features=sparse_features, name=name, input_shape=input_shape,
                      num_classes=num_classes, task=task, include_top=top, pooling=pooling,
                      dropout=dropout, classifier_activation=classifier_activation)
    if node_top and classifier_activation:
        out = layers.Activation(classifier_activation, dtype="float32", name="predictions")(model.output)
        model = keras.Model(model.inputs, out, name=name)
    return model
