"""GAT (Velickovic et al. 2018) with the paper's attention or GATv2's (Brody et al. 2022).

Attention coefficients are a softmax over each node's neighbours (self included: the
graph gets self-loops), several heads concatenated or averaged.

- ``attention="gatv2"``: TF-GNN's ``GATv2HomGraphUpdate``, "dynamic" attention
  a^T LeakyReLU(W_q h_i + W_k h_j).
- ``attention="gat"``: :class:`GATConv` below, the paper's "static" attention
  LeakyReLU(a_q^T W h_i + a_k^T W h_j) with one shared W, dropout on the coefficients
  and on the transformed neighbour states, a bias after aggregation (as the authors'
  code does; TF-GNN does not ship it).
"""
import tensorflow_gnn as tfgnn
from tensorflow_gnn.models import gat_v2

from tfmodels._keras import keras, tf
from tfmodels.data.graphs import EDGES, NODES
from tfmodels.models.gnn._common import (
    GRAPHS, CLASSIFY_GRAPHS, NodeStates, build_gnn, map_states, segment_softmax)
from tfmodels.registry import register

layers = keras.layers
ATTENTIONS = ("gat", "gatv2")


@keras.utils.register_keras_serializable(package="tfmodels")
class GATConv(layers.Layer):
    """One GAT layer on a homogeneous GraphTensor; returns it with new node states.

    For each edge j -> i and head k: e_ij = LeakyReLU(0.2)(a_q . W h_i + a_k . W h_j),
    alpha = softmax of e over i's incoming edges; h_i' = act(sum_j alpha_ij W h_j + b),
    heads concatenated ([N, heads * channels]) or averaged ([N, channels]).
    ``dropout`` applies to alpha and to W h_j during training.
    """

    def __init__(self, num_heads: int, per_head_channels: int, *, heads_merge_type: str = "concat",
                 activation="elu", dropout: float = 0.0, kernel_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        self.num_heads, self.per_head_channels = num_heads, per_head_channels
        self.heads_merge_type, self.dropout = heads_merge_type, dropout
        self.activation = keras.activations.get(activation)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.transform = layers.Dense(num_heads * per_head_channels, use_bias=False,
                                      kernel_regularizer=self.kernel_regularizer, name="transform")
        self.drop_attention, self.drop_values = layers.Dropout(dropout), layers.Dropout(dropout)

    def build(self, input_shape):
        shape = (self.num_heads, self.per_head_channels)
        self.attend_query = self.add_weight(name="attend_query", shape=shape, initializer="glorot_uniform",
                                            regularizer=self.kernel_regularizer)
        self.attend_key = self.add_weight(name="attend_key", shape=shape, initializer="glorot_uniform",
                                          regularizer=self.kernel_regularizer)
        width = self.per_head_channels * (self.num_heads if self.heads_merge_type == "concat" else 1)
        self.bias = self.add_weight(name="bias", shape=(width,), initializer="zeros")
        super().build(input_shape)

    def attention(self, graph):
        """``(W h [N, heads, channels], alpha [E, heads])``: each node's weights over its
        incoming edges (in the graph's edge order) sum to one."""
        h = graph.node_sets[NODES][tfgnn.HIDDEN_STATE]
        adjacency = graph.edge_sets[EDGES].adjacency
        source, target, n = adjacency.source, adjacency.target, tf.shape(h)[0]
        wh = tf.reshape(self.transform(h), [-1, self.num_heads, self.per_head_channels])
        query = tf.reduce_sum(wh * self.attend_query, -1)  # [N, H]
        key = tf.reduce_sum(wh * self.attend_key, -1)
        logits = tf.nn.leaky_relu(tf.gather(query, target) + tf.gather(key, source), alpha=0.2)  # [E, H]
        return wh, segment_softmax(logits, target, n)

    def call(self, graph, training=None):
        adjacency = graph.edge_sets[EDGES].adjacency
        wh, weights = self.attention(graph)
        weights = self.drop_attention(weights, training=training)
        values = self.drop_values(tf.gather(wh, adjacency.source), training=training)  # [E, H, C]
        out = tf.math.unsorted_segment_sum(weights[..., None] * values, adjacency.target, tf.shape(wh)[0])
        if self.heads_merge_type == "concat":
            out = tf.reshape(out, [-1, self.num_heads * self.per_head_channels])
        else:
            out = tf.reduce_mean(out, 1)  # [N, C]
        out = self.activation(out + self.bias)
        return graph.replace_features(node_sets={NODES: {tfgnn.HIDDEN_STATE: out}})

    def get_config(self):
        return super().get_config() | {
            "num_heads": self.num_heads, "per_head_channels": self.per_head_channels,
            "heads_merge_type": self.heads_merge_type, "dropout": self.dropout,
            "activation": keras.activations.serialize(self.activation),
            "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer)}


def _gat_layer(attention, **kw):
    if attention == "gat":
        return GATConv(kw.pop("num_heads"), kw.pop("per_head_channels"), dropout=kw.pop("edge_dropout"), **kw)
    return gat_v2.GATv2HomGraphUpdate(receiver_tag=tfgnn.TARGET, **kw)


@register(family="gnn", default_data="cora", edge_ready=True, inputs=GRAPHS, tasks=CLASSIFY_GRAPHS,
          training={"epochs": 200, "learning_rate": 0.005, "select": "val_accuracy"})  # Velickovic et al.
def gat(*, input_shape=(1433,), num_classes=7, task="node", attention="gat", num_heads=8, per_head_channels=8,
        num_layers=2, heads_merge_type="concat", dropout=0.6, weight_decay=5e-4, include_top=True,
        pooling="mean", classifier_activation="softmax", name="gat"):
    """Graph attention network, Cora setup; ``attention``: "gat" (the paper's,
    :class:`GATConv`) or "gatv2" (TF-GNN's ``GATv2HomGraphUpdate``).

    ``num_layers - 1`` hidden layers of ``num_heads`` x ``per_head_channels`` (merged by
    ``heads_merge_type``: "concat" or "mean"), ELU, dropout on inputs and attention
    weights; with ``include_top`` on a node task the last layer is one attention head
    giving the classes (as the GAT paper on Cora), otherwise a Dense classifier follows.
    Default size (Cora): 92,373 parameters ("gat": one W per layer, as the paper's
    model); 184,533 with "gatv2" (separate query and key transforms).
    """
    if heads_merge_type not in ("concat", "mean"):
        raise ValueError(f"heads_merge_type must be 'concat' or 'mean', given {heads_merge_type!r}")
    if attention not in ATTENTIONS:
        raise ValueError(f"attention must be one of {ATTENTIONS}, given {attention!r}")
    reg = keras.regularizers.l2(weight_decay / 2) if weight_decay else None
    node_top = include_top and task == "node"

    def body(graph):
        for i in range(num_layers):
            last = i == num_layers - 1 and node_top
            if dropout:
                graph = map_states(graph, layers.Dropout(dropout, name=f"dropout_{i}"))
            graph = _gat_layer(
                attention, num_heads=1 if last else num_heads,
                per_head_channels=num_classes if last else per_head_channels,
                heads_merge_type="mean" if last else heads_merge_type,
                activation="linear" if last else "elu", edge_dropout=dropout, kernel_regularizer=reg,
                name=f"gat_{i}")(graph)
        return NodeStates(name="node_states")(graph)

    model = build_gnn(body, name=name, input_shape=input_shape, num_classes=num_classes, task=task,
                      include_top=include_top and not node_top, pooling=pooling, dropout=dropout,
                      classifier_activation=classifier_activation, self_loops=True)
    if node_top and classifier_activation:
        out = layers.Activation(classifier_activation, dtype="float32", name="predictions")(model.output)
        model = keras.Model(model.inputs, out, name=name)
    return model
