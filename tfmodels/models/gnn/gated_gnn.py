"""Gated graph neural network (Li et al., ICLR 2016): a GRU is the node update.

m_v = sum_u W h_u;  h_v' = GRU(m_v, h_v), the same weights at every one of ``steps``.
"""
import tensorflow_gnn as tfgnn

from tfmodels._keras import keras, tf
from tfmodels.data.graphs import EDGES, NODES
from tfmodels.models.gnn._common import GRAPHS, CLASSIFY_GRAPHS, XU_ET_AL, _serializable, build_gnn
from tfmodels.registry import register

layers = keras.layers


@_serializable
class GatedGraphConv(layers.Layer):
    """``steps`` rounds of sum-aggregated messages and a shared GRU cell -> ``[N, units]``.

    Input states narrower than ``units`` are zero-padded (as in the paper), wider ones
    projected by a Dense layer.
    """

    def __init__(self, units: int, steps: int = 3, **kwargs):
        super().__init__(**kwargs)
        self.units, self.steps = units, steps
        self.message = layers.Dense(units, use_bias=False, name="message")
        self.gru = layers.GRUCell(units, name="gru")
        self.project = layers.Dense(units, name="project")  # only used for wide inputs

    def call(self, graph):
        h = graph.node_sets[NODES][tfgnn.HIDDEN_STATE]
        width = h.shape[-1]
        h = self.project(h) if width > self.units else tf.pad(h, [[0, 0], [0, self.units - width]])
        adj = graph.edge_sets[EDGES].adjacency
        n = tf.shape(h)[0]
        for _ in range(self.steps):
            m = tf.math.unsorted_segment_sum(tf.gather(self.message(h), adj.source), adj.target, n)
            h, _ = self.gru(m, [h])
        return h

    def get_config(self):
        return super().get_config() | {"units": self.units, "steps": self.steps}


@register(family="gnn", default_data="mutag", edge_ready=True, inputs=GRAPHS, tasks=CLASSIFY_GRAPHS,
          training=XU_ET_AL)  # graph classification as GIN trains
def gated_gnn(*, input_shape=(7,), num_classes=2, task="graph", hidden_units=32, steps=4,
              dropout=0.0, include_top=True, pooling="attention", classifier_activation="softmax",
              name="gated_gnn"):
    """Gated GNN: GRU updates with weights shared across ``steps``, attention readout.

    Default size (MUTAG: 7 features, 2 classes): 7,459 parameters.
    """

    def body(graph):
        return GatedGraphConv(hidden_units, steps, name="ggnn")(graph)

    return build_gnn(body, name=name, input_shape=input_shape, num_classes=num_classes, task=task,
                     include_top=include_top, pooling=pooling, dropout=dropout,
                     classifier_activation=classifier_activation)
