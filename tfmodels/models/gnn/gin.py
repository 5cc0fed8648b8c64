"""GIN (Xu et al., ICLR 2019): h_v' = MLP((1 + eps) h_v + sum_u h_u), eps learned.

Sum aggregation with an injective MLP update makes GIN as expressive as the 1-WL test,
the bound for message-passing GNNs. TF-GNN has no GIN layer, so this one is ours.
"""
import tensorflow_gnn as tfgnn

from tfmodels._keras import keras, tf
from tfmodels.data.graphs import EDGES, NODES
from tfmodels.models.gnn._common import (
    GRAPHS, CLASSIFY_GRAPHS, ReplaceNodeStates, XU_ET_AL, _serializable, build_gnn)
from tfmodels.registry import register

layers = keras.layers


@_serializable
class GINConv(layers.Layer):
    """One GIN layer on a homogeneous GraphTensor -> node states ``[N, units]``."""

    def __init__(self, units: int, mlp_layers: int = 2, learn_eps: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.units, self.mlp_layers, self.learn_eps = units, mlp_layers, learn_eps
        self.mlp = [layers.Dense(units, activation="relu", name=f"mlp_{i}") for i in range(mlp_layers)]

    def build(self, input_shape):
        self.eps = self.add_weight(name="eps", shape=(), initializer="zeros", trainable=self.learn_eps)

    def call(self, graph):
        h = graph.node_sets[NODES][tfgnn.HIDDEN_STATE]
        adj = graph.edge_sets[EDGES].adjacency
        out = (1.0 + self.eps) * h + tf.math.unsorted_segment_sum(
            tf.gather(h, adj.source), adj.target, tf.shape(h)[0])
        for dense in self.mlp:
            out = dense(out)
        return out

    def get_config(self):
        return super().get_config() | {"units": self.units, "mlp_layers": self.mlp_layers,
                                       "learn_eps": self.learn_eps}


@register(family="gnn", default_data="mutag", edge_ready=True, inputs=GRAPHS, tasks=CLASSIFY_GRAPHS,
          training=XU_ET_AL)
def gin(*, input_shape=(7,), num_classes=2, task="graph", hidden_units=32, num_layers=4,
        learn_eps=True, dropout=0.5, include_top=True, pooling="sum",
        classifier_activation="softmax", name="gin"):
    """Graph Isomorphism Network, GIN-eps: ``num_layers`` GIN layers (2-layer MLPs), sum readout.

    Default size (MUTAG: 7 one-hot atom types, 2 classes): 7,718 parameters.
    """

    def body(graph):
        h = None
        for i in range(num_layers):
            if h is not None:
                graph = ReplaceNodeStates(name=f"graph_{i}")([graph, h])
            h = GINConv(hidden_units, learn_eps=learn_eps, name=f"gin_{i}")(graph)
        return h

    return build_gnn(body, name=name, input_shape=input_shape, num_classes=num_classes, task=task,
                     include_top=include_top, pooling=pooling, dropout=dropout,
                     classifier_activation=classifier_activation)
