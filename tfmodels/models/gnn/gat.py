"""GAT with GATv2 attention (Velickovic et al. 2018; Brody et al. 2022), TF-GNN layers.

Attention coefficients are a softmax over each node's neighbours (self included: the
graph gets self-loops), several heads concatenated or averaged.
"""
import tensorflow_gnn as tfgnn
from tensorflow_gnn.models import gat_v2

from tfmodels._keras import keras
from tfmodels.models.gnn._common import NodeStates, build_gnn, map_states
from tfmodels.registry import register

layers = keras.layers


@register(family="gnn", default_data="cora", edge_ready=True)
def gat(*, input_shape=(1433,), num_classes=7, task="node", num_heads=8, per_head_channels=8,
        num_layers=2, heads_merge_type="concat", dropout=0.6, weight_decay=5e-4, include_top=True,
        pooling="mean", classifier_activation="softmax", name="gat"):
    """Graph attention network, GATv2 heads (TF-GNN ``GATv2HomGraphUpdate``), Cora setup.

    ``num_layers - 1`` hidden layers of ``num_heads`` x ``per_head_channels`` (merged by
    ``heads_merge_type``: "concat" or "mean"), ELU, dropout on inputs and attention
    weights; with ``include_top`` on a node task the last layer is one attention head
    giving the classes (as the GAT paper on Cora), otherwise a Dense classifier follows.
    Default size (Cora): 184,533 parameters.
    """
    if heads_merge_type not in ("concat", "mean"):
        raise ValueError(f"heads_merge_type must be 'concat' or 'mean', given {heads_merge_type!r}")
    reg = keras.regularizers.l2(weight_decay / 2) if weight_decay else None
    node_top = include_top and task == "node"

    def body(graph):
        for i in range(num_layers):
            last = i == num_layers - 1 and node_top
            if dropout:
                graph = map_states(graph, layers.Dropout(dropout, name=f"dropout_{i}"))
            graph = gat_v2.GATv2HomGraphUpdate(
                num_heads=1 if last else num_heads, per_head_channels=num_classes if last else per_head_channels,
                receiver_tag=tfgnn.TARGET, heads_merge_type="mean" if last else heads_merge_type,
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
