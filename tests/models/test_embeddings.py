"""Word embeddings: examples, planted-corpus similarity, analogy arithmetic, projector export,
builders build / train / reload."""
import itertools

import numpy as np
import pytest

import tfmodels
from tfmodels._keras import keras
from tfmodels.data.text import WordVocab
from tfmodels.errors import UnknownNameError
from tfmodels.models import embeddings as E

ANIMALS, COLOURS = ("cat", "dog", "horse"), ("red", "blue", "green")


def planted_corpus(n=600, seed=0):
    """Two word groups, each used in its own identical contexts."""
    rng = np.random.default_rng(seed)
    a = ["the {} ran across the field", "my {} sleeps by the door", "feed the {} every morning"]
    b = ["a bright {} paint on the wall", "she wore a {} dress today", "the sky turned {} at dusk"]
    return [rng.choice(a).format(rng.choice(ANIMALS)) if i % 2 else rng.choice(b).format(rng.choice(COLOURS))
            for i in range(n)]


def test_default_sizes():
    assert tfmodels.build("skipgram").count_params() == 640_000
    assert tfmodels.build("cbow").count_params() == 640_000
    assert {s.name for s in tfmodels.list_models("embeddings")} == {"skipgram", "cbow"}


def test_training_examples_pair_true_contexts_first():
    ids = np.array([2, 3, 4, 0, 5, 6], np.int32)
    (t, c), y = E.training_examples(ids, method="skipgram", window=1, num_negative=3, seed=0)
    pairs = {(int(a), int(b)) for a, b in zip(t[:, 0], c[:, 0])}
    assert pairs == {(2, 3), (3, 2), (3, 4), (4, 3), (5, 6), (6, 5)}  # 0 separates texts
    assert c.shape == (6, 4) and y[:, 0].all() and not y[:, 1:].any() and c[:, 1:].min() >= 2
    (ctx, cands), _ = E.training_examples(ids, method="cbow", window=1, num_negative=2, seed=0)
    rows = {int(cands[i, 0]): tuple(ctx[i]) for i in range(len(ctx))}
    assert rows[3] == (2, 4) and rows[4] == (3, 0) and rows[2] == (0, 3)
    with pytest.raises(UnknownNameError):
        E.training_examples(ids, method="glove")


def test_masked_mean_ignores_padding():
    v = np.arange(12, dtype=np.float32).reshape(1, 4, 3)
    out = E.MaskedMean()(v, np.array([[5, 0, 7, 0]])).numpy()
    np.testing.assert_allclose(out, (v[0, 0] + v[0, 2])[None] / 2)


@pytest.mark.parametrize("method", ["skipgram", "cbow"])
def test_planted_groups_are_closer_within_than_across(method, tmp_path):
    vec = E.train_word_vectors(planted_corpus(), method=method, embedding_dim=16, epochs=4,
                               batch_size=256, learning_rate=1e-2)
    within = [vec.similarity(a, b) for g in (ANIMALS, COLOURS) for a, b in itertools.combinations(g, 2)]
    across = [vec.similarity(a, b) for a in ANIMALS for b in COLOURS]
    assert min(within) > max(across)
    assert {w for w, _ in vec.neighbours("cat", 3)} & {"dog", "horse"}
    vectors, meta = vec.export_projector(tmp_path)
    rows = vectors.read_text().splitlines()
    assert len(rows) == len(meta.read_text().splitlines()) == vec.vocab.size - 2
    assert all(len(r.split("\t")) == 16 for r in rows)
    with pytest.raises(UnknownNameError, match="cats"):
        vec.vector("cats")


def test_analogy_is_vector_arithmetic():
    vocab = WordVocab(["king", "queen", "man", "woman", "apple"])
    m = np.zeros((vocab.size, 3), np.float32)
    royal, male, female = np.eye(3)
    for w, v in {"king": royal + male, "queen": royal + female, "man": male, "woman": female,
                 "apple": -royal}.items():
        m[vocab.index[w]] = v
    best, score = E.WordVectors(m, vocab).analogy("king", "man", "woman", k=1)[0]
    assert best == "queen" and score > 0.8


def test_builders_train_and_reload(tmp_path):
    model = E.cbow(vocab_size=20, embedding_dim=4, window=2, num_negative=2)
    x = [np.random.default_rng(0).integers(0, 20, (8, 4)).astype(np.int32),
         np.random.default_rng(1).integers(2, 20, (8, 3)).astype(np.int32)]
    y = np.tile([1.0, 0.0, 0.0], (8, 1)).astype(np.float32)
    model.compile(keras.optimizers.Adam(5e-2), keras.losses.BinaryCrossentropy(from_logits=True))
    first = model.train_on_batch(x, y)
    last = [model.train_on_batch(x, y) for _ in range(3)][-1]
    assert np.isfinite(last) and last < first
    model.save(str(tmp_path / "cbow"), save_format="tf")
    back = keras.models.load_model(str(tmp_path / "cbow"), compile=False)
    np.testing.assert_allclose(back.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    sg = E.skipgram(vocab_size=20, embedding_dim=4, num_negative=2)
    assert sg.predict([x[1][:, :1], x[1]], verbose=0).shape == (8, 3)
