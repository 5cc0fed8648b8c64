"""A user-item recommender on a heterogeneous graph: two node sets, one edge set.

Users and items are TF-GNN node sets with learned ID embeddings; "interacts" edges go
user -> item. One GraphUpdate passes messages both ways (items pool their users,
users pool their items, TF-GNN ``SimpleConv`` per direction), and a pair's score is
the dot product of the updated user and item states. Trained by ``tfmodels.train.fit``
on :func:`tfmodels.data.graphs.interaction_splits` (``tfmodels train recommender``: the
Davis Southern Women attendances); :func:`evaluate_ranking` ranks every unseen pair.
"""
import numpy as np
import tensorflow_gnn as tfgnn

from tfmodels._keras import keras, tf
from tfmodels.models.gnn._common import GRAPHS, _serializable
from tfmodels.models.gnn.link import ranking_metrics
from tfmodels.registry import register

layers = keras.layers
USERS, ITEMS, INTERACTS = "users", "items", "interacts"


@_serializable
class BipartiteGraph(layers.Layer):
    """``[source users, target items]`` (batch 1) -> heterogeneous GraphTensor with
    learned ID embeddings as the initial states of both node sets."""

    def __init__(self, num_users: int, num_items: int, units: int, **kwargs):
        super().__init__(**kwargs)
        self.num_users, self.num_items, self.units = num_users, num_items, units
        self.user_embedding = layers.Embedding(num_users, units, name="user_embedding")
        self.item_embedding = layers.Embedding(num_items, units, name="item_embedding")

    def call(self, inputs):
        source, target = (tf.cast(tf.squeeze(t, 0), tf.int32) for t in inputs)
        node_set = lambda n, emb: tfgnn.NodeSet.from_fields(  # noqa: E731
            sizes=[n], features={tfgnn.HIDDEN_STATE: emb(tf.range(n))})
        return tfgnn.GraphTensor.from_pieces(
            node_sets={USERS: node_set(self.num_users, self.user_embedding),
                       ITEMS: node_set(self.num_items, self.item_embedding)},
            edge_sets={INTERACTS: tfgnn.EdgeSet.from_fields(
                sizes=tf.reshape(tf.shape(source)[0], [1]),
                adjacency=tfgnn.Adjacency.from_indices((USERS, source), (ITEMS, target)))})

    def get_config(self):
        return super().get_config() | {"num_users": self.num_users, "num_items": self.num_items,
                                       "units": self.units}


@_serializable
class UserItemScores(layers.Layer):
    """GraphTensor states and ``pairs [1, P, 2]`` (user, item) -> logits ``[P]``."""

    def call(self, inputs):
        graph, pairs = inputs
        pairs = tf.cast(tf.squeeze(pairs, 0), tf.int32)
        users = tf.gather(graph.node_sets[USERS][tfgnn.HIDDEN_STATE], pairs[:, 0])
        items = tf.gather(graph.node_sets[ITEMS][tfgnn.HIDDEN_STATE], pairs[:, 1])
        return tf.reduce_sum(users * items, -1)


def _update(units, name):
    conv = lambda tag: tfgnn.keras.layers.SimpleConv(  # noqa: E731
        layers.Dense(units, "relu"), "mean", receiver_tag=tag)
    next_state = lambda: tfgnn.keras.layers.NextStateFromConcat(layers.Dense(units))  # noqa: E731
    return tfgnn.keras.layers.GraphUpdate(node_sets={
        USERS: tfgnn.keras.layers.NodeSetUpdate({INTERACTS: conv(tfgnn.SOURCE)}, next_state()),
        ITEMS: tfgnn.keras.layers.NodeSetUpdate({INTERACTS: conv(tfgnn.TARGET)}, next_state())}, name=name)


@register(family="gnn", default_data="davis-women", inputs=GRAPHS, tasks=("recommendation",),
          training={"epochs": 200, "learning_rate": 0.01, "select": "last"})
def recommender(*, num_users=18, num_items=14, units=16, num_layers=1, name="recommender"):
    """Heterogeneous user-item GNN recommender (TF-GNN node sets users/items), dot-product scores.

    Inputs ``source`` (user ids) and ``target`` (item ids) of the known interactions,
    ``pairs`` to score. Default size (Davis Southern Women: 18 women x 14 events):
    2,624 parameters.
    """
    source = keras.Input(shape=(None,), batch_size=1, dtype=tf.int32, name="source")
    target = keras.Input(shape=(None,), batch_size=1, dtype=tf.int32, name="target")
    pairs = keras.Input(shape=(None, 2), batch_size=1, dtype=tf.int32, name="pairs")
    graph = BipartiteGraph(num_users, num_items, units, name="graph")([source, target])
    for i in range(num_layers):
        graph = _update(units, f"update_{i}")(graph)
    return keras.Model([source, target, pairs], UserItemScores(name="scores")([graph, pairs]), name=name)


def evaluate_ranking(score_fn, train, held, num_users, num_items, k: int = 3) -> dict:
    """hits@k (a held-out item in a user's top k of their unseen items) and AUC
    (held-out interactions against all never-seen pairs); ``score_fn(pairs) -> scores``."""
    seen = {(int(u), int(i)) for u, i in train}
    positives = {(int(u), int(i)) for u, i in held}
    candidates = np.array([(u, i) for u in range(num_users) for i in range(num_items) if (u, i) not in seen])
    scores = score_fn(candidates)
    is_pos = np.array([tuple(p) in positives for p in candidates])
    hits, users = 0, sorted({int(u) for u, _ in held})
    for u in users:
        rows = np.flatnonzero(candidates[:, 0] == u)
        top = rows[np.argsort(-scores[rows], kind="stable")[:k]]
        hits += bool(is_pos[top].any())
    auc = ranking_metrics(scores[is_pos], scores[~is_pos])["auc"]
    return {f"hits@{k}": hits / len(users), "auc": auc}
