"""The Text and Embeddings pages' own small models: how each is trained, saved, loaded
and run. Plain functions over the public ``tfmodels`` API (no widgets), so the
tests build tiny versions the same way the pages' "Build" buttons do.

Every ``build_*(directory, progress, *, data_dir, ...)`` trains a small model in well
under a minute on two cores and writes it into ``directory`` with its vocabulary;
``progress(fraction, text)`` reports how far it is. ``load_*`` reads it back.
"""
import functools
import json
from pathlib import Path

import numpy as np

from charts import principal_axes
from common import data_dir, demo_artifact, epoch_progress, missing_data, zoo_dir
from tfmodels import keras
from tfmodels.data.core import make_splits
from tfmodels.data.text import (SENTIMENT_MAX_LEN, CharVocab, WordVocab, char_corpus, char_windows,
                                read_shakespeare, sentiment_splits, sentiment_vocab, words)
from tfmodels.files import write_json
from tfmodels.layers import AdditiveAttention
from tfmodels.models import transformer
from tfmodels.models.embeddings import MaskedMean, WordVectors, train_word_vectors
from tfmodels.models.rnn import (char_lm, keras_step_fn, recurrent_stack, sample_chars, sequence_input,
                                 streaming_char_lm, zero_states)
from tfmodels.train import fit

CHAR_LM, GPT, SENTIMENT, WORD_VECTORS = "demo_char_lm", "demo_gpt", "demo_sentiment", "demo_word_vectors"


def demo_model(name: str, build, *, what: str, data: tuple[str, str]) -> Path | None:
    """:func:`common.demo_artifact` trained on the real data in :func:`common.data_dir`;
    when that data is missing and the model is not built yet, says where to put it.
    ``data`` is ``(path under the data dir, what it is)``."""
    if not (zoo_dir() / name / "done.json").exists() and missing_data(*data):
        return None
    return demo_artifact(name, functools.partial(build, data_dir=data_dir()), what=what)


SHAKESPEARE = ("tinyshakespeare/input.txt", "Tiny Shakespeare (karpathy/char-rnn's input.txt)")
SENTIMENT_SENTENCES = ("text/sentiment_labelled_sentences",
                       "The UCI sentiment labelled sentences (amazon/imdb/yelp_labelled.txt)")


# -- character language models on Tiny Shakespeare -----------------------------------


def char_splits(data_dir, seq_len: int, windows: int, seed: int = 0):
    """``windows`` random next-character windows of the training text, a quarter as
    many held-out ones, and the corpus' vocabulary."""
    train_ids, val_ids, vocab = char_corpus(data_dir)
    rng = np.random.default_rng(seed)
    x, y = char_windows(train_ids, seq_len, stride=seq_len // 2)
    keep = rng.permutation(len(x))[:windows]
    vx, vy = char_windows(val_ids, seq_len)
    val = (vx[:windows // 4 + 1], vy[:windows // 4 + 1])
    return make_splits("tiny-shakespeare", (x[keep], y[keep]), val, val, task="language_model"), vocab


def _fit_lm(builder, splits, progress, *, epochs, batch_size, learning_rate, label, **model_kwargs):
    return fit(builder, splits, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
               loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=[],
               model_kwargs=model_kwargs, callbacks=[epoch_progress(progress, epochs, share=0.95, label=label)], verbose=0)


def built(run_dir) -> str:
    """When ``run_dir`` was built (its ``done.json``): part of a cache key, so a rebuilt
    model is loaded again."""
    return (Path(run_dir) / "done.json").read_text()


INFO = "info.json"  # what a page model's build measured (these folders are not run folders)


def metrics(directory) -> dict:
    """What the build recorded about the model (``info.json``)."""
    return json.loads((Path(directory) / INFO).read_text())


def _save(directory, model, vocab, metrics):
    """The model in Keras' one-file format (a BiGRU saves in 0.1 s this way, against 20 s
    as a SavedModel, and loads 6x faster; the pages never convert these to TFLite),
    its vocabulary, and what the build measured."""
    model.save(Path(directory) / "model.keras")
    vocab.save(Path(directory) / "vocab.json")
    write_json(Path(directory) / INFO, metrics)


def _load(directory):
    return keras.models.load_model(Path(directory) / "model.keras", compile=False)


def build_char_lm(directory, progress, *, data_dir=None, cell="lstm", units=128, embedding_dim=32,
                  seq_len=64, windows=2560, epochs=5, batch_size=32, learning_rate=5e-3):
    """A one-layer LSTM (or GRU) char-rnn: 5 epochs of 80 steps by default."""
    splits, vocab = char_splits(data_dir, seq_len, windows)
    result = _fit_lm(char_lm, splits, progress, epochs=epochs, batch_size=batch_size,
                     learning_rate=learning_rate, label=f"{cell} char LM", num_classes=vocab.size,
                     cell=cell, units=units, embedding_dim=embedding_dim)
    _save(directory, result.model, vocab, {"model": f"{cell} char LM", "params": result.model.count_params(),
                                           "val_loss": result.metrics["val_loss"]})


def build_gpt(directory, progress, *, data_dir=None, n_layer=2, n_head=4, n_embd=64, block_size=64,
              windows=2560, epochs=5, batch_size=32, learning_rate=3e-3):
    """A two-layer GPT over characters: 5 epochs of 80 steps by default."""
    splits, vocab = char_splits(data_dir, block_size, windows)
    result = _fit_lm(transformer.gpt, splits, progress, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
                     label="GPT", vocab_size=vocab.size, block_size=block_size, n_layer=n_layer,
                     n_head=n_head, n_embd=n_embd)
    _save(directory, result.model, vocab, {"model": "GPT", "params": result.model.count_params(),
                                           "val_loss": result.metrics["val_loss"]})


def load_char_lm(directory):
    """``(step_model, vocab)``: the one-step twin of the saved char LM."""
    return streaming_char_lm(_load(directory)), CharVocab.load(Path(directory) / "vocab.json")


def load_gpt(directory):
    return _load(directory), CharVocab.load(Path(directory) / "vocab.json")


def stream_char_lm(step_model, prompt_ids, length: int, *, temperature=1.0, seed=0, chunk=8):
    """Yield generated ids ``chunk`` at a time, carrying the recurrent state across chunks.

    Each chunk is :func:`tfmodels.models.rnn.sample_chars` started from the state just
    before the previous chunk's last id (recorded as it is fed), so nothing is re-read.
    """
    step, fed = keras_step_fn(step_model), {}

    def recording_step(char, states):
        fed["states"] = states
        return step(char, states)

    states, last = zero_states(step_model), list(prompt_ids)
    for i, start in enumerate(range(0, length, chunk)):
        ids = sample_chars(recording_step, states, last, min(chunk, length - start),
                           temperature=temperature, seed=seed + i)
        yield ids
        states, last = fed["states"], ids[-1:]


def stream_gpt(gpt, prompt_ids, length: int, *, temperature=1.0, seed=0, chunk=8):
    """Yield generated ids ``chunk`` at a time from :meth:`GPT.generate` (KV cache)."""
    idx = np.asarray(prompt_ids, np.int32)[None]
    for i, start in enumerate(range(0, length, chunk)):
        new = gpt.generate(idx, min(chunk, length - start), temperature=temperature, seed=seed + i)
        yield new[0, idx.shape[1]:].tolist()
        idx = new


# -- sentiment with additive attention -----------------------------------------------


def attention_classifier(*, vocab_size, max_len=40, cell="gru", embedding_dim=32, units=32,
                         attention_units=32, num_classes=2):
    """Bidirectional GRU (or ``cell``) over the words; the sentence's mean state asks, with
    additive attention (``attention`` layer), which words to read; their weighted sum -> classes."""
    layers = keras.layers
    inputs, x = sequence_input((max_len,), vocab_size, embedding_dim)
    states = recurrent_stack(x, cell=cell, units=units, bidirectional=True, return_sequences=True)
    query = layers.Reshape((1, 2 * units), name="query")(MaskedMean(name="mean_state")(states, inputs))
    context, _ = AdditiveAttention(attention_units, name="attention")(query, states, inputs)
    probs = layers.Dense(num_classes, activation="softmax", name="predictions")(layers.Flatten()(context))
    return keras.Model(inputs, probs, name="attention_gru")


def build_sentiment(directory, progress, *, data_dir=None, cell="gru", epochs=3, max_tokens=3000, batch_size=50,
                    learning_rate=5e-3, **model_kwargs):
    """The attention classifier on the UCI sentences' fixed split (2100 train: a batch size
    that divides it keeps to one traced training step)."""
    vocab = sentiment_vocab(data_dir, max_tokens)
    splits = sentiment_splits(data_dir, max_tokens=max_tokens)
    result = fit(attention_classifier, splits, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
                 model_kwargs={"vocab_size": vocab.size, "max_len": SENTIMENT_MAX_LEN, "cell": cell, **model_kwargs},
                 callbacks=[epoch_progress(progress, epochs, share=0.95, label="sentiment")], verbose=0)
    _save(directory, result.model, vocab, {"model": f"bidirectional {cell.upper()} + additive attention",
                                           "params": result.model.count_params(),
                                           "test_accuracy": result.metrics["test_accuracy"],
                                           "max_len": SENTIMENT_MAX_LEN})


def load_sentiment(directory):
    """``(explain, vocab, max_len)``: ``explain(ids)`` -> ``(probabilities, word weights)``."""
    model = _load(directory)
    weights = model.get_layer("attention").output[1][:, 0]  # [b, T]: the one query's weights
    explain = keras.Model(model.input, [model.output, weights])
    return explain, WordVocab.load(Path(directory) / "vocab.json"), metrics(directory)["max_len"]


def explain_sentence(explain, vocab, max_len: int, sentence: str):
    """``(probabilities [classes], [(word, weight, known)])`` for one sentence."""
    tokens = words(sentence)[:max_len]
    ids = vocab.encode_batch([sentence], max_len)
    probs, weights = (np.asarray(t)[0] for t in explain(ids, training=False))
    return probs, [(w, float(weights[i]), bool(ids[0, i] > 1)) for i, w in enumerate(tokens)]


# -- word vectors --------------------------------------------------------------------


def build_word_vectors(directory, progress, *, data_dir=None, lines=None, embedding_dim=48, epochs=2,
                       max_tokens=4000, min_count=3, window=3):
    """Skip-gram vectors of Tiny Shakespeare's non-empty lines (the first ``lines`` of them,
    or all 32,777): two epochs over about 1.2 M (word, context) pairs by default."""
    texts = [line for line in read_shakespeare(data_dir).split("\n") if line.strip()][:lines]
    progress(0.05, f"skip-gram on {len(texts):,} lines")
    vectors = train_word_vectors(texts, embedding_dim=embedding_dim, epochs=epochs, max_tokens=max_tokens,
                                 min_count=min_count, window=window, learning_rate=1e-2)
    np.save(Path(directory) / "vectors.npy", vectors.matrix)
    vectors.vocab.save(Path(directory) / "vocab.json")
    write_json(Path(directory) / INFO, {"model": "skip-gram", "lines": len(texts),
                                                  "words": vectors.vocab.size - 2, "dim": embedding_dim})
    progress(1.0, "saved")


def load_word_vectors(directory):
    directory = Path(directory)
    return WordVectors(np.load(directory / "vectors.npy"), WordVocab.load(directory / "vocab.json"))


def projection(vectors, n: int = 200):
    """The ``n`` most frequent words (ids rank words by frequency; punctuation left out)
    on the first two principal axes of their unit vectors: ``(words, xy [n, 2])``."""
    top = [i for i, w in enumerate(vectors.vocab.tokens) if i >= 2 and w[0].isalnum()][:n]
    return [vectors.vocab.tokens[i] for i in top], principal_axes(vectors.unit[top])
