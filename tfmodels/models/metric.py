"""Metric learning: an embedding f(x) on the unit sphere and a distance d = ||f(x1) - f(x2)||^2.

:func:`siamese` trains it with the contrastive loss on every pair of a labelled batch,
:func:`triplet` with the triplet loss max(d(a,p) - d(a,n) + margin, 0) on triplets mined
in the batch ("batch_all", "batch_hard" or "semi_hard"). Both return a
:class:`MetricModel` whose ``embedder`` is a functional model (for export) and whose
``train_step`` computes the loss from ``(x, labels)`` batches, so ``tfmodels.train.fit``
trains it on any labelled image dataset (shuffled batches with several examples per
class). Evaluation: :func:`few_shot_accuracy` (N-way K-shot episodes) and
:func:`recall_at_k`, numpy functions of embeddings, so they also score a device's
embeddings or raw pixels (the baseline). On a device::

    from tfmodels_edge import EdgeModel
    embedding = EdgeModel("embedder_int8.tflite").predict(x)   # (N, dim), unit length
"""
import numpy as np

from tfmodels._keras import keras, tf
from tfmodels.errors import TfmodelsError, UnknownNameError
from tfmodels.models.autoencoder import _SelfSupervised, encoder_network
from tfmodels.registry import register

layers = keras.layers
MININGS = ("batch_all", "batch_hard", "semi_hard")
LOSSES = ("contrastive", "triplet")


# -- losses and mining (pure functions of labels and embeddings) --------------------------

def pairwise_sq_distances(emb):
    """[B, B] squared Euclidean distances between the rows of ``emb``."""
    emb = tf.cast(emb, tf.float32)
    sq = tf.reduce_sum(tf.square(emb), 1)
    return tf.maximum(sq[:, None] - 2.0 * tf.matmul(emb, emb, transpose_b=True) + sq[None, :], 0.0)


def _masks(labels):
    labels = tf.reshape(labels, (-1,))
    same = tf.equal(labels[:, None], labels[None, :])
    positive = tf.logical_and(same, tf.logical_not(tf.eye(tf.shape(labels)[0], dtype=tf.bool)))
    return positive, tf.logical_not(same)


def select_negatives(labels, dist, mining: str):
    """Index of the negative each anchor (batch_hard: [B]) or each anchor-positive
    pair (semi_hard: [B, B]) is trained against.

    batch_hard: the closest negative of the anchor. semi_hard (Schroff et al. 2015):
    the closest negative farther than the positive, d(a,n) > d(a,p); where none is,
    the farthest negative.
    """
    _, negative = _masks(labels)
    big = tf.reduce_max(dist) + 1.0
    if mining == "batch_hard":
        return tf.argmin(tf.where(negative, dist, big), axis=1, output_type=tf.int32)
    if mining != "semi_hard":
        raise UnknownNameError("negative selection", mining, ("batch_hard", "semi_hard"))
    d_an = tf.where(negative, dist, big)[:, None, :]                  # [a, 1, n]
    farther = tf.logical_and(negative[:, None, :], d_an > dist[:, :, None])  # [a, p, n]
    outside = tf.argmin(tf.where(farther, d_an, big), axis=2, output_type=tf.int32)
    inside = tf.argmax(tf.where(negative, dist, -1.0), axis=1, output_type=tf.int32)
    has = tf.reduce_any(farther, axis=2)
    return tf.where(has, outside, inside[:, None])


def triplet_loss(labels, emb, *, margin: float = 0.2, mining: str = "semi_hard"):
    """Triplet loss on squared distances with in-batch mining (see :data:`MININGS`).

    batch_all: mean over all valid triplets with a positive loss (Hermans et al. 2017);
    batch_hard: per anchor, hardest positive vs hardest negative; semi_hard: per
    anchor-positive pair, the negative from :func:`select_negatives`.
    """
    if mining not in MININGS:
        raise UnknownNameError("mining", mining, MININGS)
    dist = pairwise_sq_distances(emb)
    positive, negative = _masks(labels)
    has_neg = tf.reduce_any(negative, 1)
    if mining == "batch_all":
        valid = tf.logical_and(positive[:, :, None], negative[:, None, :])
        loss = tf.nn.relu(dist[:, :, None] - dist[:, None, :] + margin) * tf.cast(valid, tf.float32)
        n_pos = tf.reduce_sum(tf.cast(loss > 1e-16, tf.float32))
        return tf.reduce_sum(loss) / tf.maximum(n_pos, 1.0)
    if mining == "batch_hard":
        hardest_pos = tf.reduce_max(tf.where(positive, dist, 0.0), 1)
        hardest_neg = tf.gather(dist, select_negatives(labels, dist, mining), batch_dims=1)
        valid = tf.cast(tf.logical_and(tf.reduce_any(positive, 1), has_neg), tf.float32)
        loss = tf.nn.relu(hardest_pos - hardest_neg + margin) * valid
        return tf.reduce_sum(loss) / tf.maximum(tf.reduce_sum(valid), 1.0)
    d_an = tf.gather(dist, select_negatives(labels, dist, mining), batch_dims=1)  # [a, p]
    valid = tf.cast(tf.logical_and(positive, has_neg[:, None]), tf.float32)
    loss = tf.nn.relu(dist - d_an + margin) * valid
    return tf.reduce_sum(loss) / tf.maximum(tf.reduce_sum(valid), 1.0)


def contrastive_loss(labels, emb, *, margin: float = 1.0):
    """Contrastive loss (Hadsell, Chopra & LeCun 2006) on every pair of the batch:
    d^2 for same-class pairs, max(margin - d, 0)^2 for different-class pairs, each
    kind averaged separately (different-class pairs far outnumber same-class ones)."""
    dist = pairwise_sq_distances(emb)
    positive, negative = _masks(labels)
    pos, neg = tf.cast(positive, tf.float32), tf.cast(negative, tf.float32)
    far = tf.square(tf.nn.relu(margin - tf.sqrt(dist + 1e-12)))
    return (tf.reduce_sum(dist * pos) / tf.maximum(tf.reduce_sum(pos), 1.0)
            + tf.reduce_sum(far * neg) / tf.maximum(tf.reduce_sum(neg), 1.0))


# -- the model ----------------------------------------------------------------------------

@keras.utils.register_keras_serializable(package="tfmodels")
class MetricModel(_SelfSupervised):
    """``embedder(x)``: unit-length embeddings trained with a metric loss on ``(x, labels)``.

    ``threshold`` (a saved variable, set by :meth:`fit_threshold`) turns the distance
    into the siamese same/different decision.
    """

    def __init__(self, embedder, *, loss: str = "triplet", margin: float = 0.2,
                 mining: str = "semi_hard", **kwargs):
        super().__init__(**kwargs)
        if loss not in LOSSES:
            raise UnknownNameError("metric loss", loss, LOSSES)
        if loss == "triplet" and mining not in MININGS:
            raise UnknownNameError("mining", mining, MININGS)
        self.embedder, self.loss_name, self.margin, self.mining = embedder, loss, float(margin), mining
        self.threshold = self.add_weight(name="threshold", shape=(), trainable=False,
                                         initializer=keras.initializers.Constant(margin))
        self(tf.zeros((1, *embedder.input_shape[1:])))  # builds it and records the save spec

    def call(self, x, training=None):
        return self.embedder(x, training=training)

    def loss_terms(self, x, y, training):
        if y is None:
            raise TfmodelsError("metric learning trains on (images, labels) batches; no labels were given")
        emb = self(x, training=training)
        if self.loss_name == "contrastive":
            loss = contrastive_loss(y, emb, margin=self.margin)
        else:
            loss = triplet_loss(y, emb, margin=self.margin, mining=self.mining)
        return {"loss": loss}

    def distance(self, x1, x2, batch_size: int = 256):
        """Squared embedding distance between paired rows of ``x1`` and ``x2``."""
        e1, e2 = (self.predict(x, batch_size=batch_size, verbose=0) for x in (x1, x2))
        return np.square(e1 - e2).sum(1)

    def fit_threshold(self, x1, x2, same) -> float:
        """Set ``threshold`` to the distance that best separates same from different
        pairs (accuracy on the given pairs); returns that accuracy."""
        d, same = self.distance(x1, x2), np.asarray(same, bool)
        candidates = np.unique(d)
        acc = [np.mean((d <= t) == same) for t in candidates]
        best = int(np.argmax(acc))
        self.threshold.assign(float(candidates[best]))
        return float(acc[best])

    def same(self, x1, x2):
        """The siamese decision: d(x1, x2) <= threshold."""
        return self.distance(x1, x2) <= float(self.threshold.numpy())

    def get_config(self):
        return {**super().get_config(), "embedder": keras.layers.serialize(self.embedder),
                "loss": self.loss_name, "margin": self.margin, "mining": self.mining}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config, embedder=keras.layers.deserialize(config["embedder"], custom_objects=custom_objects))
        return cls(**config)


def embedding_network(*, input_shape, embedding_dim: int = 64, architecture: str = "conv",
                      filters=(32, 64), hidden_units=(256,), name: str = "embedder"):
    """The autoencoders' encoder stack ending in an L2-normalized embedding."""
    body = encoder_network(input_shape=input_shape, latent_dim=embedding_dim, architecture=architecture,
                           filters=filters, hidden_units=hidden_units, name=f"{name}_body")
    inputs = keras.Input(shape=input_shape, name="inputs")
    outputs = layers.UnitNormalization(name="l2_normalize")(body(inputs))
    return keras.Model(inputs, outputs, name=name)


@register(family="metric", default_data="digits", edge_ready=True)
def siamese(*, input_shape=(28, 28, 1), embedding_dim: int = 64, architecture: str = "conv",
            filters=(32, 64), hidden_units=(256,), margin: float = 1.0, num_classes=None,
            name: str = "siamese"):
    """Siamese network (Bromley et al. 1993; contrastive loss of Hadsell et al. 2006):
    one shared embedder, d(x1, x2) = ||f(x1) - f(x2)||^2 and a fitted threshold.

    Trained on every pair of a labelled batch. 219,585 parameters at the default size
    (one is the saved threshold). ``num_classes`` is ignored (the trainer passes it).
    """
    embedder = embedding_network(input_shape=input_shape, embedding_dim=embedding_dim,
                                 architecture=architecture, filters=filters, hidden_units=hidden_units)
    return MetricModel(embedder, loss="contrastive", margin=margin, name=name)


@register(family="metric", default_data="digits", edge_ready=True)
def triplet(*, input_shape=(28, 28, 1), embedding_dim: int = 64, architecture: str = "conv",
            filters=(32, 64), hidden_units=(256,), margin: float = 0.2, mining: str = "semi_hard",
            num_classes=None, name: str = "triplet"):
    """Triplet network (FaceNet, Schroff et al. 2015): unit-length embeddings, loss
    max(d(a,p) - d(a,n) + margin, 0) on triplets mined in the batch ("batch_all",
    "batch_hard", "semi_hard"). 219,585 parameters at the default size (one is the
    saved threshold).
    """
    embedder = embedding_network(input_shape=input_shape, embedding_dim=embedding_dim,
                                 architecture=architecture, filters=filters, hidden_units=hidden_units)
    return MetricModel(embedder, loss="triplet", margin=margin, mining=mining, name=name)


# -- data and evaluation (numpy) ------------------------------------------------------------

def transformed_classes(images, labels, transforms: int = 8):
    """More training classes for few-shot learning: every rotation by a multiple of 90
    degrees (and, with ``transforms=8``, each mirrored) is a class of its own.

    The practice of few-shot learning on Omniglot (Santoro et al. 2016; Vinyals et al.
    2016): an embedder trained on five digits learns features for five clusters; forty
    distinct shapes make it learn strokes that also tell unseen classes apart. Returns
    ``(images', labels')`` with ``transforms`` times as many examples; the label of
    transform t of class c is ``c * transforms + t``. Images are ``[N, H, W, C]``, square.
    """
    images, labels = np.asarray(images), np.asarray(labels)
    if transforms not in (1, 2, 4, 8):
        raise ValueError(f"transforms must be 1, 2, 4 or 8, given {transforms}")
    if images.ndim != 4 or images.shape[1] != images.shape[2]:
        raise ValueError(f"expected square images [N, H, W, C], given shape {images.shape}")
    out = []
    for t in range(transforms):
        x = np.rot90(images, t % 4, axes=(1, 2))
        out.append(x[:, :, ::-1] if t >= 4 else x)
    return np.concatenate(out), np.concatenate([labels * transforms + t for t in range(transforms)])


def few_shot_accuracy(embeddings, labels, *, n_way: int = 5, k_shot: int = 1, queries: int = 15,
                      episodes: int = 500, seed: int = 0) -> dict:
    """N-way K-shot episodes: pick ``n_way`` classes, ``k_shot`` support and ``queries``
    query examples of each; a query takes the class of the nearest support mean
    (prototype; with one shot, the nearest neighbour). Returns the mean accuracy and
    its 95% confidence half-width over episodes."""
    emb = np.asarray(embeddings, np.float32).reshape(len(labels), -1)
    labels = np.asarray(labels)
    classes = np.unique(labels)
    if n_way > len(classes):
        raise TfmodelsError(f"{n_way}-way episodes need {n_way} classes, the data has {len(classes)}")
    rng = np.random.default_rng(seed)
    by_class = {c: np.flatnonzero(labels == c) for c in classes}
    short = [c for c, idx in by_class.items() if len(idx) < k_shot + queries]
    if short:
        raise TfmodelsError(f"classes {short} have fewer than k_shot + queries = {k_shot + queries} examples")
    acc = []
    for _ in range(episodes):
        chosen = rng.choice(classes, n_way, replace=False)
        protos, q_emb, q_lab = [], [], []
        for i, c in enumerate(chosen):
            idx = rng.choice(by_class[c], k_shot + queries, replace=False)
            protos.append(emb[idx[:k_shot]].mean(0))
            q_emb.append(emb[idx[k_shot:]])
            q_lab += [i] * queries
        protos, q_emb = np.stack(protos), np.concatenate(q_emb)
        d = (q_emb ** 2).sum(1)[:, None] - 2 * q_emb @ protos.T + (protos ** 2).sum(1)[None]
        acc.append(np.mean(d.argmin(1) == np.array(q_lab)))
    acc = np.array(acc)
    return {"accuracy": float(acc.mean()), "ci95": float(1.96 * acc.std() / np.sqrt(len(acc))),
            "n_way": n_way, "k_shot": k_shot, "queries": queries, "episodes": episodes}


def recall_at_k(embeddings, labels, ks=(1, 5)) -> dict:
    """Retrieval: each example queries all others; recall@k is the fraction of queries
    with a same-class example among their k nearest neighbours."""
    emb = np.asarray(embeddings, np.float32).reshape(len(labels), -1)
    labels = np.asarray(labels)
    sq = (emb ** 2).sum(1)
    d = sq[:, None] - 2 * emb @ emb.T + sq[None]
    np.fill_diagonal(d, np.inf)
    order = np.argsort(d, axis=1)[:, :max(ks)]
    hit = labels[order] == labels[:, None]
    return {f"recall@{k}": float(hit[:, :k].any(1).mean()) for k in ks}
