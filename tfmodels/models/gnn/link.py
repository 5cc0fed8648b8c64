"""Link prediction: a GNN encoder gives node embeddings z, a decoder scores pairs.

GAE (Kipf & Welling 2016, "Variational Graph Auto-Encoders", non-variational form):
two GCN layers (32, 16), score(i, j) = z_i . z_j; or an MLP on z_i * z_j. Trained by
``tfmodels.train.fit`` (``tfmodels train gae --data cora-links``) with binary
cross-entropy on the training edges against non-edges drawn afresh every epoch
(:class:`tfmodels.data.graphs.PairSplits`), the epoch of the best validation AUC kept.
"""
import numpy as np

from tfmodels._keras import keras, tf
from tfmodels.models.gnn._common import GRAPHS, ReplaceNodeStates, _serializable, build_gnn
from tfmodels.models.gnn.gcn import GCNConv, SparseDropoutDense
from tfmodels.registry import register

layers = keras.layers
DECODERS = ("dot", "mlp")


@_serializable
class LinkDecoder(layers.Layer):
    """Node embeddings ``[N, D]`` and pairs ``[1, P, 2]`` -> logits ``[P]``."""

    def __init__(self, decoder: str = "dot", hidden_units: int = 32, **kwargs):
        super().__init__(**kwargs)
        if decoder not in DECODERS:
            raise ValueError(f"decoder must be one of {DECODERS}, given {decoder!r}")
        self.decoder, self.hidden_units = decoder, hidden_units
        self.mlp = ([layers.Dense(hidden_units, activation="relu", name="hidden"), layers.Dense(1, name="score")]
                    if decoder == "mlp" else [])

    def call(self, inputs):
        z, pairs = inputs
        pairs = tf.cast(tf.squeeze(pairs, 0), tf.int32)
        h = tf.gather(z, pairs[:, 0]) * tf.gather(z, pairs[:, 1])  # symmetric in i, j
        if self.decoder == "dot":
            return tf.reduce_sum(h, -1)
        for dense in self.mlp:
            h = dense(h)
        return tf.squeeze(h, -1)

    def get_config(self):
        return super().get_config() | {"decoder": self.decoder, "hidden_units": self.hidden_units}


def link_predictor(encoder, *, decoder="dot", name=None):
    """Wrap a node-embedding model (``include_top=False``) with a ``pairs`` input and a decoder."""
    pairs = keras.Input(shape=(None, 2), batch_size=1, dtype=tf.int32, name="pairs")
    logits = LinkDecoder(decoder, name="decoder")([encoder.output, pairs])
    return keras.Model([*encoder.inputs, pairs], logits, name=name or f"{encoder.name}_link")


@register(family="gnn", default_data="cora-links", inputs=GRAPHS, tasks=("link_prediction",),
          training={"epochs": 200, "learning_rate": 0.01, "select": "val_auc"})
def gae(*, input_shape=(1433,), hidden_units=32, embedding_units=16, dropout=0.0, decoder="dot",
        sparse_features=False, name="gae"):
    """Graph auto-encoder for link prediction (Kipf & Welling 2016): GCN(32)-GCN(16), dot decoder.

    Inputs: the graph's plain tensors plus ``pairs [1, P, 2]``; output: one logit per
    pair. Default size (Cora, dot decoder): 46,416 parameters.
    """

    def encode(x):
        return SparseDropoutDense(hidden_units, dropout, name="gcn_0_kernel")(x)

    def body(graph):
        h = GCNConv(hidden_units, "relu", transform=False, name="gcn_0")(graph)
        graph = ReplaceNodeStates(name="graph_1")([graph, layers.Dropout(dropout)(h) if dropout else h])
        return GCNConv(embedding_units, None, name="gcn_1")(graph)

    encoder = build_gnn(body, encode=encode, sparse_features=sparse_features, name=f"{name}_encoder",
                        input_shape=input_shape, num_classes=0, task="node", include_top=False,
                        pooling="mean", dropout=0.0, classifier_activation=None)
    return link_predictor(encoder, decoder=decoder, name=name)


def ranking_metrics(pos_scores, neg_scores) -> dict:
    """ROC AUC and average precision of positives against negatives."""
    from tfmodels.evaluate import ranking

    return ranking(np.r_[np.ones(len(pos_scores)), np.zeros(len(neg_scores))], np.r_[pos_scores, neg_scores])
