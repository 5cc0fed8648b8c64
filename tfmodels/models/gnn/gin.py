"""GIN (Xu et al., ICLR 2019): h_v' = MLP((1 + eps) h_v + sum_u h_u), eps learned.

Sum aggregation with an injective MLP update makes GIN as expressive as the 1-WL test,
the bound for message-passing GNNs. TF-GNN has no GIN layer, so this one is ours.
"""
import tensorflow_gnn as tfgnn

from tfmodels._keras import keras, tf
from tfmodels.data.graphs import EDGES, NODES
from tfmodels.models.gnn._common import (
    GRAPHS, CLASSIFY_GRAPHS, NodeStates, ReplaceNodeStates, XU_ET_AL, _serializable, build_gnn)
from tfmodels.registry import register

layers = keras.layers


@_serializable
class GINConv(layers.Layer):
    """One GIN layer on a homogeneous GraphTensor -> node states ``[N, units]``.

    With ``batch_norm`` (Xu et al.'s code) the MLP is Dense -> BatchNorm -> ReLU, ...,
    Dense, and its output goes through BatchNorm -> ReLU; without, every Dense is ReLU.
    """

    def __init__(self, units: int, mlp_layers: int = 2, learn_eps: bool = True, batch_norm: bool = True,
                 **kwargs):
        super().__init__(**kwargs)
        self.units, self.mlp_layers, self.learn_eps, self.batch_norm = units, mlp_layers, learn_eps, batch_norm
        act = None if batch_norm else "relu"
        self.mlp = [layers.Dense(units, activation=act, name=f"mlp_{i}") for i in range(mlp_layers)]
        # PyTorch's BatchNorm momentum 0.1 (Xu et al.'s), Keras' 0.9: few steps an epoch on small datasets
        self.norms = [layers.BatchNormalization(momentum=0.9, name=f"bn_{i}") for i in range(mlp_layers)] \
            if batch_norm else []

    def build(self, input_shape):
        self.eps = self.add_weight(name="eps", shape=(), initializer="zeros", trainable=self.learn_eps)

    def call(self, graph, training=None):
        h = graph.node_sets[NODES][tfgnn.HIDDEN_STATE]
        adj = graph.edge_sets[EDGES].adjacency
        out = (1.0 + self.eps) * h + tf.math.unsorted_segment_sum(
            tf.gather(h, adj.source), adj.target, tf.shape(h)[0])
        for i, dense in enumerate(self.mlp):
            out = dense(out)
            if self.batch_norm:
                out = tf.nn.relu(self.norms[i](out, training=training))
        return out

    def get_config(self):
        return super().get_config() | {"units": self.units, "mlp_layers": self.mlp_layers,
                                       "learn_eps": self.learn_eps, "batch_norm": self.batch_norm}


@register(family="gnn", default_data="mutag", edge_ready=True, inputs=GRAPHS, tasks=CLASSIFY_GRAPHS,
          training=XU_ET_AL)
def gin(*, input_shape=(7,), num_classes=2, task="graph", hidden_units=32, num_layers=4,
        learn_eps=True, batch_norm=True, readout_layers=None, dropout=0.5, include_top=True,
        pooling="sum", classifier_activation="softmax", name="gin"):
    """Graph Isomorphism Network, GIN-eps, as Xu et al. built it: ``num_layers`` GIN
    layers with 2-layer MLPs (BatchNorm with ``batch_norm``); a graph task's head reads
    every layer's node states, the input features included (``readout_layers="all"``,
    the default for graph tasks: their concatenation, pooled, into one Dense, which sums
    a linear score of each layer as Xu et al. do); "last" (node tasks' default) reads the
    last layer only.

    Default size (MUTAG: 7 one-hot atom types, 2 classes): 8,948 parameters.
    """
    readout_layers = readout_layers or ("all" if task == "graph" else "last")
    if readout_layers not in ("all", "last"):
        raise ValueError(f"readout_layers must be 'all' or 'last', given {readout_layers!r}")

    def body(graph):
        h, states = None, [NodeStates(name="input_states")(graph)]
        for i in range(num_layers):
            if h is not None:
                graph = ReplaceNodeStates(name=f"graph_{i}")([graph, h])
            h = GINConv(hidden_units, learn_eps=learn_eps, batch_norm=batch_norm, name=f"gin_{i}")(graph)
            states.append(h)
        return layers.Concatenate(name="all_layers")(states) if readout_layers == "all" else h

    return build_gnn(body, name=name, input_shape=input_shape, num_classes=num_classes, task=task,
                     include_top=include_top, pooling=pooling, dropout=dropout,
                     classifier_activation=classifier_activation)
