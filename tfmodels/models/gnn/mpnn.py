"""The general message-passing layer: x_i' = gamma(x_i, AGG_{j in N(i)} phi(x_i, x_j)).

Built from TF-GNN's pieces: ``SimpleConv`` applies ``phi`` (an MLP on the
concatenated receiver and sender states) per edge and pools with ``AGG`` (sum, mean,
max); ``NextStateFromConcat`` applies ``gamma`` (an MLP on [x_i ; aggregate]).
"""
import tensorflow_gnn as tfgnn

from tfmodels._keras import keras
from tfmodels.data.graphs import EDGES, NODES
from tfmodels.models.gnn._common import GRAPHS, CLASSIFY_GRAPHS, NodeStates, build_gnn, map_states
from tfmodels.registry import register

layers = keras.layers
AGGREGATIONS = {"sum": "sum", "mean": "mean", "max": "max_no_inf"}


def mlp(units: int, depth: int, name: str):
    return keras.Sequential([layers.Dense(units, activation="relu") for _ in range(depth)], name=name)


def message_passing_layer(units: int, *, aggregation="sum", phi=None, gamma=None, name="mpnn"):
    """One round of message passing on the homogeneous graph, as a TF-GNN GraphUpdate.

    ``phi`` and ``gamma`` default to one-layer ReLU MLPs of ``units``; pass any Keras
    layers to plug in others.
    """
    if aggregation not in AGGREGATIONS:
        raise ValueError(f"aggregation must be one of {sorted(AGGREGATIONS)}, given {aggregation!r}")
    phi = phi or mlp(units, 1, f"{name}_phi")
    gamma = gamma or mlp(units, 1, f"{name}_gamma")
    return tfgnn.keras.layers.GraphUpdate(node_sets={NODES: tfgnn.keras.layers.NodeSetUpdate(
        {EDGES: tfgnn.keras.layers.SimpleConv(phi, AGGREGATIONS[aggregation], receiver_tag=tfgnn.TARGET)},
        tfgnn.keras.layers.NextStateFromConcat(gamma))}, name=name)


@register(family="gnn", default_data="karate", edge_ready=True, inputs=GRAPHS, tasks=CLASSIFY_GRAPHS,
          training={"epochs": 100, "learning_rate": 0.01, "select": "val_accuracy"})
def mpnn(*, input_shape=(34,), num_classes=2, task="node", hidden_units=16, num_layers=2,
         aggregation="sum", dropout=0.0, include_top=True, pooling="mean",
         classifier_activation="softmax", name="mpnn"):
    """General message-passing network (Gilmer et al. 2017 form), ``num_layers`` rounds (K hops).

    ``aggregation``: "sum", "mean" or "max". Default size (karate club, 34 one-hot
    features, 2 clubs): 3,010 parameters.
    """

    def body(graph):
        for i in range(num_layers):
            if dropout:
                graph = map_states(graph, layers.Dropout(dropout, name=f"dropout_{i}"))
            graph = message_passing_layer(hidden_units, aggregation=aggregation, name=f"mpnn_{i}")(graph)
        return NodeStates(name="node_states")(graph)

    return build_gnn(body, name=name, input_shape=input_shape, num_classes=num_classes, task=task,
                     include_top=include_top, pooling=pooling, dropout=dropout,
                     classifier_activation=classifier_activation)
