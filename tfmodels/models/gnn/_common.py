"""Pieces every GNN builder shares: plain-tensor inputs -> GraphTensor, readouts, heads.

Every model takes one (possibly batched, see ``tfmodels.data.graphs.batch_graphs``)
graph per call as plain tensors with a leading batch dimension of 1:
``node_features [1, N, F]``, ``source [1, E]``, ``target [1, E]`` and, for graph
tasks, ``graph_ids [1, N]``. :class:`GraphFromTensors` builds TF-GNN's GraphTensor
inside the model, so the same model trains in Keras and converts to builtin TFLite.
Node tasks output ``[N, C]``, graph tasks ``[G, C]`` (G = max(graph_ids) + 1).
"""
import tensorflow_gnn as tfgnn

from tfmodels._keras import keras, tf
from tfmodels.data.graphs import EDGES, NODES

layers = keras.layers
TASKS = ("node", "graph")
READOUTS = ("sum", "mean", "max", "attention")
GRAPHS = ("graphs",)  # what the models train on (registry ``inputs``), for these tasks:
CLASSIFY_GRAPHS = ("node_classification", "graph_classification")
#: GIN's training setup (Xu et al. 2019): 350 epochs of batches of 32 graphs, Adam at
#: 0.01 halved every 50 epochs, the epoch chosen on validation.
XU_ET_AL = {"epochs": 350, "batch_size": 32, "learning_rate": 0.01, "schedule": "step",
            "select": "val_accuracy"}


def _serializable(cls):
    return keras.utils.register_keras_serializable(package="tfmodels")(cls)


@_serializable
class GraphFromTensors(layers.Layer):
    """``[node_features, source, target]`` (batch 1) -> homogeneous GraphTensor.

    With ``self_loops`` an edge ``i -> i`` is added for every node (GAT attends to it).
    """

    def __init__(self, self_loops: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.self_loops = self_loops

    def call(self, inputs):
        x, source, target = (tf.squeeze(t, 0) for t in inputs[:3])
        source, target = tf.cast(source, tf.int32), tf.cast(target, tf.int32)
        num_nodes = tf.shape(x)[0]
        if self.self_loops:
            loops = tf.range(num_nodes)
            source, target = tf.concat([source, loops], 0), tf.concat([target, loops], 0)
        return tfgnn.GraphTensor.from_pieces(
            node_sets={NODES: tfgnn.NodeSet.from_fields(
                sizes=tf.reshape(num_nodes, [1]), features={tfgnn.HIDDEN_STATE: x})},
            edge_sets={EDGES: tfgnn.EdgeSet.from_fields(
                sizes=tf.reshape(tf.shape(source)[0], [1]),
                adjacency=tfgnn.Adjacency.from_indices((NODES, source), (NODES, target)))})

    def get_config(self):
        return super().get_config() | {"self_loops": self.self_loops}


def segment_softmax(logits, segment_ids, num_segments):
    """Softmax of ``logits [K, ...]`` within each segment (e.g. a node's incoming edges,
    a graph's nodes), in builtin TFLite ops: segment max, exp, segment sum."""
    logits -= tf.gather(tf.math.unsorted_segment_max(logits, segment_ids, num_segments), segment_ids)
    weights = tf.exp(logits)
    return weights / tf.gather(tf.math.unsorted_segment_sum(weights, segment_ids, num_segments), segment_ids)


@_serializable
class GraphReadout(layers.Layer):
    """Pool node states ``[N, D]`` to graph states ``[G, D]`` by ``graph_ids [1, N]``.

    ``mode``: "sum", "mean", "max", or "attention" (softmax over each graph's nodes of
    a learned score, Li et al. 2016's gated readout).
    """

    def __init__(self, mode: str = "mean", **kwargs):
        super().__init__(**kwargs)
        if mode not in READOUTS:
            raise ValueError(f"readout must be one of {READOUTS}, given {mode!r}")
        self.mode = mode
        self.gate = layers.Dense(1, name="gate") if mode == "attention" else None

    def call(self, inputs):
        h, graph_ids = inputs
        ids = tf.cast(tf.squeeze(graph_ids, 0), tf.int32)
        n = tf.reduce_max(ids) + 1
        if self.mode == "max":
            return tf.math.unsorted_segment_max(h, ids, n)
        if self.mode == "attention":
            h = segment_softmax(self.gate(h), ids, n) * h
        total = tf.math.unsorted_segment_sum(h, ids, n)
        if self.mode == "mean":
            count = tf.math.unsorted_segment_sum(tf.ones_like(h[:, :1]), ids, n)
            total /= tf.maximum(count, 1.0)
        return total

    def get_config(self):
        return super().get_config() | {"mode": self.mode}


@_serializable
class NodeStates(layers.Layer):
    """The node states ``[N, D]`` of a GraphTensor's one node set."""

    def call(self, graph):
        return graph.node_sets[NODES][tfgnn.HIDDEN_STATE]


@_serializable
class ReplaceNodeStates(layers.Layer):
    """A GraphTensor with its node states replaced by ``states`` (e.g. after a Dense)."""

    def call(self, inputs):
        graph, states = inputs
        return graph.replace_features(node_sets={NODES: {tfgnn.HIDDEN_STATE: states}})


def map_states(graph, layer):
    """Apply a Keras ``layer`` (e.g. Dropout) to the node states of ``graph``."""
    return ReplaceNodeStates(name=f"{layer.name}_graph")([graph, layer(NodeStates(name=f"{layer.name}_in")(graph))])


def graph_inputs(num_features: int, *, graph_ids: bool = False, sparse_features: bool = False) -> list:
    """Keras inputs of one graph per call (batch 1, any number of nodes and edges)."""
    inputs = [keras.Input(shape=(None, num_features), batch_size=1, sparse=sparse_features,
                          name="node_features"),
              keras.Input(shape=(None,), batch_size=1, dtype=tf.int32, name="source"),
              keras.Input(shape=(None,), batch_size=1, dtype=tf.int32, name="target")]
    if graph_ids:
        inputs.append(keras.Input(shape=(None,), batch_size=1, dtype=tf.int32, name="graph_ids"))
    return inputs


def check_args(*, input_shape, task, pooling):
    if len(tuple(input_shape)) != 1:
        raise ValueError(f"input_shape is the node feature width, (F,); given {tuple(input_shape)}")
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, given {task!r}")
    if pooling not in READOUTS:
        raise ValueError(f"pooling (graph readout) must be one of {READOUTS}, given {pooling!r}")


def build_gnn(body, *, name, input_shape, num_classes, task, include_top, pooling, dropout,
              classifier_activation, self_loops=False, encode=None, sparse_features=False):
    """Wrap ``body(graph) -> node states [N, D]`` into a node- or graph-task model.

    ``encode`` maps the ``node_features`` input ``[1, N, F]`` (sparse with
    ``sparse_features``) to the initial node states ``[1, N, D]``. ``include_top=False``
    returns the node states (node task) or the pooled graph states (graph task).
    """
    check_args(input_shape=input_shape, task=task, pooling=pooling)
    inputs = graph_inputs(input_shape[0], graph_ids=task == "graph", sparse_features=sparse_features)
    x = encode(inputs[0]) if encode else inputs[0]
    graph = GraphFromTensors(self_loops=self_loops, name="graph")([x, *inputs[1:3]])
    h = body(graph)
    if task == "graph":
        h = GraphReadout(pooling, name=f"{pooling}_readout")([h, inputs[3]])
    if include_top:
        if dropout:
            h = layers.Dropout(dropout, name="top_dropout")(h)
        h = layers.Dense(num_classes, activation=classifier_activation, dtype="float32",
                         name="predictions")(h)
    return keras.Model(inputs, h, name=name)
