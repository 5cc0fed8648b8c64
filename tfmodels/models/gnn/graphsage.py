"""GraphSAGE (Hamilton et al., NeurIPS 2017) with TF-GNN's GraphSAGE layers.

``aggregator="mean"``: h_v' = act(W [h_v ; mean_u h_u]); ``"maxpool"``: neighbours
pass a Dense+ReLU before an elementwise max. L2-normalized outputs, as in the paper.
"""
import tensorflow_gnn as tfgnn
from tensorflow_gnn.models import graph_sage

from tfmodels._keras import keras
from tfmodels.models.gnn._common import GRAPHS, CLASSIFY_GRAPHS, NodeStates, build_gnn
from tfmodels.registry import register

AGGREGATORS = {"mean": dict(reduce_type="mean", use_pooling=False),
               "maxpool": dict(reduce_type="max_no_inf", use_pooling=True)}


@register(family="gnn", default_data="cora", edge_ready=True, inputs=GRAPHS, tasks=CLASSIFY_GRAPHS,
          training={"epochs": 200, "learning_rate": 0.01, "select": "val_accuracy"})  # GCN's Cora setup
def graphsage(*, input_shape=(1433,), num_classes=7, task="node", hidden_units=64, num_layers=2,
              aggregator="mean", dropout=0.5, include_top=True, pooling="mean",
              classifier_activation="softmax", name="graphsage"):
    """GraphSAGE: ``num_layers`` TF-GNN ``GraphSAGEGraphUpdate`` layers, then a classifier.

    ``aggregator``: "mean" or "maxpool"; self and neighbour parts are concatenated.
    Default size (Cora, mean aggregator): 200,967 parameters.
    """
    if aggregator not in AGGREGATORS:
        raise ValueError(f"aggregator must be one of {sorted(AGGREGATORS)}, given {aggregator!r}")

    def body(graph):
        for i in range(num_layers):
            graph = graph_sage.GraphSAGEGraphUpdate(
                units=hidden_units, hidden_units=hidden_units if aggregator == "maxpool" else None,
                receiver_tag=tfgnn.TARGET,
                dropout_rate=dropout, combine_type="concat", name=f"sage_{i}",
                **AGGREGATORS[aggregator])(graph)
        return NodeStates(name="node_states")(graph)

    return build_gnn(body, name=name, input_shape=input_shape, num_classes=num_classes, task=task,
                     include_top=include_top, pooling=pooling, dropout=dropout,
                     classifier_activation=classifier_activation)
