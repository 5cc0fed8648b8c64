"""Text and series data: fixed splits, vocabularies, the dates task, windows and baselines."""
import datetime
import json

import numpy as np
import pytest

from tfmodels.data import load_splits, series, text
from tfmodels.errors import DataError


def test_sentiment_split_is_fixed_stratified_and_complete(data_dir):
    texts = text.sentiment_texts(data_dir)
    sizes = {s: len(t) for s, (t, _) in texts.items()}
    assert sizes == {"train": 2100, "val": 300, "test": 600}
    for _, y in texts.values():
        assert y.mean() == pytest.approx(0.5)
    all_sentences = [s for t, _ in texts.values() for s in t]
    sentences, labels, sources = text.read_sentiment(data_dir)
    assert sorted(all_sentences) == sorted(sentences) and len(sentences) == 3000
    assert sorted(set(sources)) == ["amazon", "imdb", "yelp"] and labels.sum() == 1500
    assert any("\x85" in s for s in sentences)  # the imdb NEL survives: split on "\n" only
    assert texts["test"][0][:3] == text.sentiment_texts(str(data_dir))["test"][0][:3]


def test_sentiment_ids_decode_back_and_vocab_roundtrips(data_dir, tmp_path):
    splits = load_splits("sentiment", data_dir)
    vocab = text.sentiment_vocab(data_dir)
    x, y = splits.train
    assert x.shape == (2100, text.SENTIMENT_MAX_LEN) and x.dtype == np.int32 and x.max() < vocab.size
    first = text.sentiment_texts(data_dir)["train"][0][0]
    assert vocab.decode(x[0]) == " ".join(text.words(first))[: len(vocab.decode(x[0]))]
    path = vocab.save(tmp_path)
    assert path.name == "vocab.json" and text.WordVocab.load(tmp_path) == vocab
    assert vocab.encode("zzqxj great") == [1, vocab.index["great"]]
    (tmp_path / "bad.json").write_text(json.dumps({"kind": "char_vocab", "chars": ["a"]}))
    with pytest.raises(DataError, match="word_vocab"):
        text.WordVocab.load(tmp_path / "bad.json")


def test_char_corpus_is_nanogpt_split(data_dir, tmp_path):
    train, val, vocab = text.char_corpus(data_dir)
    assert len(train) == 1003854 and len(val) == 111540
    assert len(vocab.chars) == 65 and vocab.size == 66  # 65 characters + padding id 0
    assert vocab.decode(train[:14]) == "First Citizen:"
    assert text.CharVocab.load(vocab.save(tmp_path / "v.json")) == vocab
    x, y = text.char_windows(train[:1000], 100, stride=50)
    assert x.shape == y.shape == (18, 100)
    np.testing.assert_array_equal(x[:, 1:], y[:, :-1])
    np.testing.assert_array_equal(x[1, :50], x[0, 50:])
    with pytest.raises(DataError, match="character"):
        vocab.encode("é")


def test_shakespeare_splits_stride_overlaps_training_windows_only(data_dir):
    plain = text.shakespeare_splits(data_dir, seq_len=64)
    strided = text.shakespeare_splits(data_dir, seq_len=64, stride=16)
    assert len(strided.train[0]) == (1003854 - 64 - 1) // 16 + 1
    np.testing.assert_array_equal(strided.train[0][4], plain.train[0][1])
    np.testing.assert_array_equal(strided.train[0][1, :48], strided.train[0][0, 16:])
    np.testing.assert_array_equal(strided.val[0], plain.val[0])


def test_number_words():
    assert [text.ordinal_words(d) for d in (1, 2, 3, 12, 20, 23, 31)] == [
        "first", "second", "third", "twelfth", "twentieth", "twenty-third", "thirty-first"]
    assert [text.year_words(y) for y in (1900, 1906, 1994, 2000, 2005, 2010)] == [
        "nineteen hundred", "nineteen oh-six", "nineteen ninety-four", "two thousand",
        "two thousand five", "twenty ten"]


def test_dates_task_is_deterministic_and_heldout_formats_are_unseen():
    src, tgt = text.dates_task(300, seed=3)
    assert (src, tgt) == text.dates_task(300, seed=3) and src != text.dates_task(300, seed=4)[0]
    for s, t in zip(src, tgt):
        d = datetime.date.fromisoformat(t)
        assert any(text.DATE_FORMATS[f](d) == s for f in text.TRAIN_FORMATS)
    held, _ = text.dates_task(300, seed=3, formats=text.HELDOUT_FORMATS)
    assert not set(held) & set(text.dates_task(5000, seed=0)[0])
    assert max(map(len, held + src)) <= text.DATES_SOURCE_LEN
    with pytest.raises(DataError, match="unknown date formats"):
        text.dates_task(1, formats=("nope",))


def test_seq2seq_encoding_is_teacher_forcing_shifted():
    vocab = text.dates_vocab()
    arr = text.encode_seq2seq(["march 5, 1994"], ["1994-03-05"], vocab)
    assert arr["decoder_in"][0, 0] == vocab.index[text.START]
    np.testing.assert_array_equal(arr["decoder_in"][0, 1:], arr["decoder_out"][0, :-1])
    assert arr["decoder_out"][0, -1] == vocab.index[text.END]
    assert vocab.decode(arr["source"][0]) == "march 5, 1994"


def test_dates_splits_hold_out_formats_and_match_their_strings():
    splits, pairs = text.dates_splits(train_pairs=200, val_pairs=50, test_pairs=80)
    vocab = text.dates_vocab()
    assert splits.info.splits == {"train": 200, "val": 50, "test": 80}
    (source, decoder_in), decoder_out = splits.test
    assert source.shape == (80, text.DATES_SOURCE_LEN) and decoder_out.shape == (80, text.DATES_TARGET_LEN + 1)
    assert [vocab.decode(s) for s in source] == pairs["test"][0]
    assert [vocab.decode(t) for t in decoder_out] == pairs["test"][1]
    np.testing.assert_array_equal(decoder_in[:, 1:], decoder_out[:, :-1])
    assert not set(pairs["test"][0]) & set(pairs["train"][0])  # held-out formats only
    assert pairs["train"] == text.dates_task(200, seed=0)


def test_series_windows_tail_split_and_baselines():
    x, y = series.windows(np.arange(10.0), window=3)
    assert x.shape == (7, 3, 1) and y[:, 0].tolist() == [3, 4, 5, 6, 7, 8, 9]
    splits = load_splits("co2")
    tr, va, te = splits.train, splits.val, splits.test
    assert len(tr[0]) + len(va[0]) + len(te[0]) == 526 - 24
    assert tr[1][-1, 0] == va[0][0, -1, 0] and va[1][-1, 0] == te[0][0, -1, 0]  # chronological
    base = series.naive_forecasts(te[0], series.SEASONS["co2"])
    np.testing.assert_array_equal(base["last_value"], te[0][:, -1])
    np.testing.assert_array_equal(base["seasonal_naive"][12:], te[1][:-12])
    assert len(load_splits("sunspots").test[0]) == 57
    with pytest.raises(DataError, match="window >= season"):
        series.naive_forecasts(x, 12)
