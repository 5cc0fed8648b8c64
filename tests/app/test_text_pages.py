"""The Text and Embeddings pages, headless with AppTest, on tiny demo models built once
into a temporary zoo by the same functions the pages' Build buttons call."""
import functools
from collections import Counter

import numpy as np
import pytest

import helpers as app  # puts apps/ on sys.path
import text_models as tm
from tfmodels.data.text import read_shakespeare, words as tokenize

TINY = {
    tm.CHAR_LM: functools.partial(tm.build_char_lm, units=16, embedding_dim=8, seq_len=32, windows=64, epochs=1),
    tm.GPT: functools.partial(tm.build_gpt, n_layer=1, n_head=2, n_embd=16, block_size=32, windows=64, epochs=1),
    # a SimpleRNN traces in a fraction of a GRU's time; 300 divides the 2100 training sentences
    tm.SENTIMENT: functools.partial(tm.build_sentiment, epochs=1, batch_size=300, max_tokens=800, cell="simple_rnn",
                                    embedding_dim=8, units=8, attention_units=8),
    tm.WORD_VECTORS: functools.partial(tm.build_word_vectors, lines=4000, epochs=1, embedding_dim=16),
}


@pytest.fixture(scope="module")
def text_zoo(tmp_path_factory):
    zoo = tmp_path_factory.mktemp("text_zoo")
    return app.build_zoo(zoo, TINY)


@pytest.fixture
def text_env(text_zoo, monkeypatch):
    monkeypatch.setenv("TFMODELS_ZOO", str(text_zoo))
    return text_zoo


def _generated(at) -> str:
    assert not at.exception and not at.error, (at.exception, at.error)
    assert len(at.code) == 1
    return at.code[0].value


# -- Text: generation ---------------------------------------------------------------


def test_generation_continues_the_prompt_and_follows_every_input(text_env):
    at = app.page("views/text.py")
    # 200 characters after the prompt (fewer only if an untrained model samples padding)
    assert 180 < len(_generated(at)) - len("ROMEO:\n") <= 200
    at.slider(key="text_length").set_value(60).run()
    first = _generated(at)
    assert first.startswith("ROMEO:\n") and 50 < len(first) - len("ROMEO:\n") <= 60
    at.slider(key="text_temperature").set_value(0.0).run()
    greedy = _generated(at)
    assert greedy != first and len(greedy) == len("ROMEO:\n") + 60
    at.slider(key="text_temperature").set_value(1.2).run()
    assert _generated(at) not in (first, greedy)
    at.text_area(key="text_prompt").set_value("JULIET:").run()
    lstm = _generated(at)
    assert lstm.startswith("JULIET:") and lstm[len("JULIET:"):] != first[len("ROMEO:\n"):]
    at.radio(key="text_model").set_value("GPT").run()
    gpt = _generated(at)
    assert gpt.startswith("JULIET:") and 50 < len(gpt) - len("JULIET:") <= 60 and gpt != lstm
    assert "GPT:" in at.caption[0].value and "parameters" in at.caption[0].value


def test_empty_or_unknown_prompt_is_a_message(text_env):
    at = app.page("views/text.py")
    at.text_area(key="text_prompt").set_value("").run()
    assert not at.exception and not at.code
    assert "Type a prompt" in at.warning[0].value
    at.text_area(key="text_prompt").set_value("Hello 🙂 ü").run()
    assert not at.exception and not at.code
    assert "'ü'" in at.warning[0].value and "'🙂'" in at.warning[0].value


def test_streamed_chunks_equal_one_uninterrupted_run(text_env):
    """Greedy streaming in chunks carries the state: the same ids as the library's
    one-call generation, for both models."""
    from tfmodels.models.rnn import keras_step_fn, sample_chars, zero_states

    step, vocab = tm.load_char_lm(text_env / tm.CHAR_LM)
    prompt = vocab.encode("KING:\n")
    chunks = list(tm.stream_char_lm(step, prompt, 21, temperature=0, chunk=8))
    assert [len(c) for c in chunks] == [8, 8, 5]
    assert sum(chunks, []) == sample_chars(keras_step_fn(step), zero_states(step), prompt, 21, temperature=0)
    gpt, vocab = tm.load_gpt(text_env / tm.GPT)
    chunks = list(tm.stream_gpt(gpt, prompt, 45, temperature=0, chunk=8))  # past the 32-character context
    assert [len(c) for c in chunks] == [8] * 5 + [5]
    assert sum(chunks, []) == gpt.generate(prompt, 45, temperature=0)[0, len(prompt):].tolist()


# -- Text: sentiment with attention ----------------------------------------------------


def test_sentiment_shows_label_probability_and_attention(text_env):
    at = app.page("views/text.py")
    at.radio(key="text_task").set_value("Sentiment").run()
    assert not at.exception and not at.error
    first = at.metric[0]
    assert first.value in ("negative", "positive") and "probability" in first.delta
    assert len(at.get("vega_lite_chart")) == 1  # the heat map
    at.text_input(key="text_sentence").set_value("Awful, the worst phone I ever bought.").run()
    assert not at.exception and at.metric[0].delta != first.delta
    assert "SIMPLE_RNN + additive attention" in at.caption[0].value
    at.text_input(key="text_sentence").set_value("zzyzx qwv").run()
    assert not at.exception and not at.metric
    assert "None of these words" in at.warning[0].value
    at.text_input(key="text_sentence").set_value("").run()
    assert not at.exception and not at.metric and "Type a sentence" in at.warning[0].value


def test_attention_weights_cover_the_words_and_sum_to_one(text_env):
    explain, vocab, max_len = tm.load_sentiment(text_env / tm.SENTIMENT)
    probs, words = tm.explain_sentence(explain, vocab, max_len, "The pasta was good and the zzyzx staff friendly")
    assert probs.shape == (2,) and abs(probs.sum() - 1) < 1e-5
    assert [w for w, _, _ in words][:3] == ["the", "pasta", "was"] and len(words) == 9
    assert [known for w, _, known in words if w == "zzyzx"] == [False]
    assert abs(sum(weight for _, weight, _ in words) - 1) < 1e-4  # padding gets none


# -- Embeddings -----------------------------------------------------------------------


def test_neighbours_change_with_the_word_and_unknown_words_get_close_spellings(text_env):
    at = app.page("views/embeddings.py")
    at.text_input(key="emb_word").set_value("citizen").run()
    assert not at.exception and not at.warning
    table = at.dataframe[0].value
    assert len(table) == 10 and "citizen" not in set(table["word"])
    assert table["cosine"].is_monotonic_decreasing
    at.text_input(key="emb_word").set_value("Rome").run()  # typed in capitals: looked up lower case
    other = at.dataframe[0].value
    assert list(other["word"]) != list(table["word"])
    at.slider(key="emb_k").set_value(5).run()
    assert len(at.dataframe[0].value) == 5
    at.text_input(key="emb_word").set_value("citizem").run()
    assert not at.exception and not at.dataframe
    assert "'citizem' is not in the vocabulary" in at.warning[0].value and "citizen" in at.warning[0].value
    at.text_input(key="emb_word").set_value("  ").run()
    assert not at.exception and not at.dataframe and at.warning[0].value == "Type a word."


def test_analogy_and_projection(text_env):
    at = app.page("views/embeddings.py")
    at.radio(key="emb_section").set_value("Analogy").run()
    for key, word in (("emb_a", "citizen"), ("emb_b", "rome"), ("emb_c", "you")):
        at.text_input(key=key).set_value(word).run()
    assert not at.exception and not at.warning
    answers = set(at.dataframe[0].value["word"])
    assert len(answers) == 10 and not answers & {"citizen", "rome", "you"}
    at.text_input(key="emb_b").set_value("xqzt").run()
    assert not at.dataframe and "'xqzt' is not in the vocabulary" in at.warning[0].value
    at.radio(key="emb_section").set_value("2-D projection").run()
    assert not at.exception and len(at.get("vega_lite_chart")) == 1
    vectors = tm.load_word_vectors(text_env / tm.WORD_VECTORS)
    words, xy = tm.projection(vectors, 30)
    assert len(words) == 30 and xy.shape == (30, 2) and all(w[0].isalnum() for w in words)
    lines = [line for line in read_shakespeare().split("\n") if line.strip()][:4000]  # what TINY trained on
    counts = Counter(w for line in lines for w in tokenize(line))
    ranked = [counts[w] for w in words]
    assert ranked == sorted(ranked, reverse=True) and words[0] == "the"  # the most frequent words
    assert np.allclose(xy.mean(0), 0, atol=1e-5) and xy[:, 0].var() >= xy[:, 1].var()


# -- an empty zoo, missing data ---------------------------------------------------------


def test_empty_zoo_offers_to_build_and_the_button_builds(tmp_path, monkeypatch):
    monkeypatch.setenv("TFMODELS_ZOO", str(tmp_path))
    at = app.page("views/text.py")
    assert [b.label for b in at.button] == [f"Build {tm.CHAR_LM}"] and "LSTM" in at.info[0].value
    monkeypatch.setattr(tm, "build_word_vectors", TINY[tm.WORD_VECTORS])  # the button builds a tiny one
    at = app.page("views/embeddings.py")
    assert not at.dataframe
    at.button(key=f"build-{tm.WORD_VECTORS}").click().run()
    assert not at.exception and not at.error
    assert (tmp_path / tm.WORD_VECTORS / "done.json").exists()
    at.text_input(key="emb_word").set_value("citizen").run()
    assert len(at.dataframe[0].value) == 10


def test_missing_data_says_where_to_put_it(tmp_path, monkeypatch):
    monkeypatch.setenv("TFMODELS_ZOO", str(tmp_path / "zoo"))
    monkeypatch.setenv("TFMODELS_DATA_DIR", str(tmp_path / "data"))
    at = app.page("views/embeddings.py")
    assert not at.button and not at.error
    assert str(tmp_path / "data" / "tinyshakespeare" / "input.txt") in at.warning[0].value
    assert "TFMODELS_DATA_DIR" in at.warning[0].value
