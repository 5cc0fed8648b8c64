"""Word embeddings: CBOW and skip-gram with negative sampling (Mikolov et al. 2013),
nearest neighbours and analogies by cosine similarity, TensorBoard projector export.

    vectors = train_word_vectors(texts, method="skipgram", embedding_dim=64, epochs=3)
    vectors.neighbours("king")               # [(word, cosine), ...]
    vectors.analogy("king", "man", "woman")  # king - man + woman ~ queen
    vectors.export_projector("runs/vectors") # vectors.tsv + metadata.tsv
"""
import numpy as np

from tfmodels._keras import keras, tf
from tfmodels.data.text import WordVocab, words
from tfmodels.errors import UnknownNameError
from tfmodels.files import atomic_write
from tfmodels.registry import register

layers = keras.layers


@keras.utils.register_keras_serializable(package="tfmodels")
class MaskedMean(layers.Layer):
    """Mean of ``[b, T, d]`` vectors over the positions whose id (``[b, T]``) is not 0."""

    def call(self, vectors, token_ids):
        keep = tf.cast(tf.not_equal(token_ids, 0), vectors.dtype)[..., None]
        return tf.reduce_sum(vectors * keep, 1) / tf.maximum(tf.reduce_sum(keep, 1), 1.0)


def _scores(hidden, candidates, vocab_size, embedding_dim):
    """Dot products of ``hidden [b, d]`` with output embeddings of ``candidates [b, 1+k]``."""
    out = layers.Embedding(vocab_size, embedding_dim, name="context_embedding")(candidates)
    return layers.Dot(axes=(2, 1), name="scores")([out, hidden])


@register(family="embeddings", trained_with="tfmodels.models.embeddings.train_word_vectors(texts, method='skipgram')")
def skipgram(*, vocab_size=5000, embedding_dim=64, num_negative=4, name="skipgram"):
    """Skip-gram with negative sampling (Mikolov et al. 2013): word -> its context words.

    Inputs ``target`` ``(1,)`` and ``candidates`` ``(1 + num_negative,)`` (the true context
    word first, then sampled negatives); output the logits of "is a real context word".
    Train with sigmoid cross-entropy against ``[1, 0, ..., 0]``. The word vectors are
    the ``embedding`` layer's weights. 640,000 parameters at the default size.
    """
    target = keras.Input(shape=(1,), name="target", dtype="int32")
    candidates = keras.Input(shape=(1 + num_negative,), name="candidates", dtype="int32")
    hidden = layers.Flatten(name="word")(layers.Embedding(vocab_size, embedding_dim, name="embedding")(target))
    return keras.Model([target, candidates], _scores(hidden, candidates, vocab_size, embedding_dim), name=name)


@register(family="embeddings", trained_with="tfmodels.models.embeddings.train_word_vectors(texts, method='cbow')")
def cbow(*, vocab_size=5000, embedding_dim=64, window=2, num_negative=4, name="cbow"):
    """Continuous bag of words with negative sampling (Mikolov et al. 2013): the mean of
    the ``2 * window`` context embeddings (padding id 0 ignored) scores the centre word
    (first candidate) against sampled negatives. 640,000 parameters at the default size.
    """
    context = keras.Input(shape=(2 * window,), name="context", dtype="int32")
    candidates = keras.Input(shape=(1 + num_negative,), name="candidates", dtype="int32")
    vectors = layers.Embedding(vocab_size, embedding_dim, name="embedding")(context)
    hidden = MaskedMean(name="context_mean")(vectors, context)
    return keras.Model([context, candidates], _scores(hidden, candidates, vocab_size, embedding_dim), name=name)


def _negatives(ids, shape, vocab_size, rng, power=0.75):
    """Negatives from the unigram distribution to the 3/4 power (word2vec's choice)."""
    counts = np.bincount(ids, minlength=vocab_size).astype(np.float64)
    counts[:2] = 0  # never padding or out-of-vocabulary
    p = counts ** power
    return rng.choice(vocab_size, size=shape, p=p / p.sum()).astype(np.int32)


def training_examples(ids, *, method="skipgram", window=2, num_negative=4, vocab_size=None, seed=0):
    """``(inputs, labels)`` for :func:`skipgram` or :func:`cbow` from one id stream.

    Positions whose word is padding/out-of-vocabulary (id < 2) are not centres.
    """
    ids = np.asarray(ids, np.int32)
    vocab_size = vocab_size or int(ids.max()) + 1
    rng = np.random.default_rng(seed)
    padded = np.concatenate([np.zeros(window, np.int32), ids, np.zeros(window, np.int32)])
    offsets = np.array([o for o in range(-window, window + 1) if o])
    centres = np.flatnonzero(ids >= 2)
    around = padded[centres[:, None] + window + offsets]  # [n, 2w]
    if method == "skipgram":
        pairs = np.argwhere(around >= 2)
        target, context = ids[centres[pairs[:, 0]]], around[pairs[:, 0], pairs[:, 1]]
        first, pos = target[:, None], context
    elif method == "cbow":
        first, pos = np.where(around >= 2, around, 0), ids[centres]
    else:
        raise UnknownNameError("embedding method", method, ("skipgram", "cbow"))
    cands = np.concatenate([pos[:, None], _negatives(ids, (len(pos), num_negative), vocab_size, rng)], 1)
    labels = np.zeros(cands.shape, np.float32)
    labels[:, 0] = 1.0
    order = rng.permutation(len(pos))
    return [first[order], cands[order]], labels[order]


class WordVectors:
    """Unit-normalised word vectors with cosine neighbour and analogy queries."""

    def __init__(self, matrix, vocab: WordVocab):
        matrix = np.asarray(matrix, np.float32)
        if len(matrix) != vocab.size:
            raise ValueError(f"matrix has {len(matrix)} rows, vocabulary {vocab.size} words")
        self.vocab, self.matrix = vocab, matrix
        self.unit = matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)

    def vector(self, word: str) -> np.ndarray:
        if word not in self.vocab.index or self.vocab.index[word] < 2:
            raise UnknownNameError("word", word, self.vocab.tokens[2:])
        return self.unit[self.vocab.index[word]]

    def similarity(self, a: str, b: str) -> float:
        return float(self.vector(a) @ self.vector(b))

    def nearest(self, query, k=10, exclude=()) -> list[tuple[str, float]]:
        sims = self.unit @ (query / max(np.linalg.norm(query), 1e-12))
        sims[:2] = -np.inf  # padding, out-of-vocabulary
        for w in exclude:
            sims[self.vocab.index[w]] = -np.inf
        best = np.argsort(-sims)[:k]
        return [(self.vocab.tokens[i], float(sims[i])) for i in best]

    def neighbours(self, word: str, k: int = 10) -> list[tuple[str, float]]:
        """The ``k`` words most cosine-similar to ``word`` (itself excluded)."""
        return self.nearest(self.vector(word), k, exclude=(word,))

    def analogy(self, a: str, b: str, c: str, k: int = 5) -> list[tuple[str, float]]:
        """Words nearest ``a - b + c`` (king - man + woman), the three inputs excluded."""
        return self.nearest(self.vector(a) - self.vector(b) + self.vector(c), k, exclude=(a, b, c))

    def export_projector(self, out_dir) -> tuple:
        """``vectors.tsv`` and ``metadata.tsv`` for projector.tensorflow.org (padding and
        out-of-vocabulary rows left out), each written atomically."""
        from pathlib import Path

        out = Path(out_dir)
        vec = "\n".join("\t".join(f"{v:.6g}" for v in row) for row in self.matrix[2:]) + "\n"
        meta = "\n".join(self.vocab.tokens[2:]) + "\n"
        return atomic_write(out / "vectors.tsv", vec), atomic_write(out / "metadata.tsv", meta)


def train_word_vectors(texts, *, method="skipgram", embedding_dim=64, window=2, num_negative=4,
                       max_tokens=5000, min_count=1, epochs=3, batch_size=512, learning_rate=5e-3,
                       seed=0, verbose=0) -> WordVectors:
    """Train CBOW or skip-gram on ``texts`` (strings); return the input word vectors."""
    keras.utils.set_random_seed(seed)
    vocab = WordVocab.from_texts(texts, max_tokens=max_tokens, min_count=min_count)
    ids = np.array([i for t in texts for i in vocab.encode(t) + [0]], np.int32)  # 0 between texts
    x, y = training_examples(ids, method=method, window=window, num_negative=num_negative,
                             vocab_size=vocab.size, seed=seed)
    build = skipgram if method == "skipgram" else cbow
    kw = {} if method == "skipgram" else {"window": window}
    model = build(vocab_size=vocab.size, embedding_dim=embedding_dim, num_negative=num_negative, **kw)
    model.compile(keras.optimizers.Adam(learning_rate), keras.losses.BinaryCrossentropy(from_logits=True))
    model.fit(x, y, batch_size=batch_size, epochs=epochs, shuffle=True, verbose=verbose)
    return WordVectors(model.get_layer("embedding").get_weights()[0], vocab)


__all__ = ["skipgram", "cbow", "MaskedMean", "training_examples", "WordVectors", "train_word_vectors",
           "words"]
