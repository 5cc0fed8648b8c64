"""Text data shared by the recurrent and transformer families.

    texts = sentiment_texts(data_dir)            # {"train": (sentences, labels), ...}
    splits = load_splits("sentiment", data_dir)  # word ids, padded, for train.fit
    vocab = sentiment_vocab(data_dir)            # the WordVocab those ids come from
    train_ids, val_ids, vocab = char_corpus(data_dir)   # Tiny Shakespeare, 90/10
    x, y = char_windows(train_ids, seq_len=128)          # next-character targets
    src, tgt = dates_task(1000, seed=0, formats=TRAIN_FORMATS)  # "march 5, 1994" -> "1994-03-05"
    splits, pairs = dates_splits()               # the benchmarks' seq2seq task, held-out test

Vocabularies are plain JSON (``save``/``load``, written atomically) kept beside a model,
so an exported model takes the same integer ids on a device without TensorFlow.
Id 0 is always padding; word vocabularies reserve 1 for out-of-vocabulary words.
"""
import datetime
import functools
import json
import re
from collections import Counter
from pathlib import Path

import numpy as np

from tfmodels.data.core import DatasetInfo, Splits, make_splits, partition, register_dataset
from tfmodels.data.download import fetch
from tfmodels.errors import DataError
from tfmodels.files import write_json

PAD, OOV = "<pad>", "<oov>"
START, END = "<s>", "</s>"


class _Vocab:
    """Token <-> id table; id 0 is padding."""

    kind = "vocab"

    def __init__(self, tokens):
        self.tokens = list(tokens)
        if len(set(self.tokens)) != len(self.tokens):
            raise ValueError("vocabulary tokens must be unique")
        self.index = {t: i for i, t in enumerate(self.tokens)}

    def __len__(self):
        return len(self.tokens)

    @property
    def size(self) -> int:
        return len(self.tokens)

    def __eq__(self, other):
        return type(self) is type(other) and self.tokens == other.tokens

    def to_json(self) -> dict:
        return {"kind": self.kind, "tokens": self.tokens}

    def save(self, path) -> Path:
        """Write the vocabulary as JSON (atomically); a directory gets ``vocab.json``."""
        path = Path(path)
        if path.is_dir():
            path = path / "vocab.json"
        return write_json(path, self.to_json())

    @classmethod
    def load(cls, path):
        path = Path(path)
        if path.is_dir():
            path = path / "vocab.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise DataError(f"cannot read a vocabulary from {path}: {e}") from e
        if not isinstance(data, dict) or data.get("kind") != cls.kind:
            raise DataError(f"{path} is not a {cls.kind} file (expected kind={cls.kind!r}, "
                            f"given {data.get('kind') if isinstance(data, dict) else type(data).__name__!r})")
        return cls._from_json(data)

    @classmethod
    def _from_json(cls, data):
        return cls(data["tokens"])


class CharVocab(_Vocab):
    """Characters <-> ids. ``specials`` (e.g. start/end markers) come right after padding."""

    kind = "char_vocab"

    def __init__(self, chars, specials=()):
        self.specials = list(specials)
        super().__init__([PAD, *self.specials, *chars])
        self.chars = list(chars)
        self.unk = self.index.get(OOV)

    @classmethod
    def from_text(cls, text, specials=()):
        return cls(sorted(set(text)), specials)

    def to_json(self) -> dict:
        return {"kind": self.kind, "chars": self.chars, "specials": self.specials}

    @classmethod
    def _from_json(cls, data):
        return cls(data["chars"], data.get("specials", ()))

    def encode(self, text: str) -> np.ndarray:
        """int32 ids of ``text``; unknown characters map to ``<oov>`` if it is a special."""
        try:
            return np.array([self.index[c] if self.unk is None else self.index.get(c, self.unk)
                             for c in text], np.int32)
        except KeyError as e:
            raise DataError(f"character {e.args[0]!r} is not in the vocabulary "
                            f"({len(self.chars)} characters)") from None

    def decode(self, ids) -> str:
        """Characters of ``ids``, skipping padding and special tokens."""
        n = 1 + len(self.specials)
        return "".join(self.tokens[i] for i in np.asarray(ids).ravel().tolist() if i >= n)


_WORD = re.compile(r"[a-z0-9']+|[^\sa-z0-9']")


def words(text: str) -> list[str]:
    """Lower-cased word and punctuation tokens (apostrophes stay inside words)."""
    return _WORD.findall(text.lower())


class WordVocab(_Vocab):
    """Words <-> ids: 0 padding, 1 out-of-vocabulary, then words by frequency."""

    kind = "word_vocab"

    def __init__(self, tokens):
        tokens = list(tokens)
        if tokens[:2] != [PAD, OOV]:
            tokens = [PAD, OOV, *tokens]
        super().__init__(tokens)

    @classmethod
    def from_texts(cls, texts, *, max_tokens: int | None = None, min_count: int = 1):
        """Most frequent words of ``texts`` (ties broken alphabetically)."""
        counts = Counter(w for t in texts for w in words(t))
        ranked = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
        if max_tokens is not None:
            ranked = ranked[: max(0, max_tokens - 2)]
        return cls(ranked)

    def encode(self, text: str) -> list[int]:
        return [self.index.get(w, 1) for w in words(text)]

    def encode_batch(self, texts, length: int) -> np.ndarray:
        """``(len(texts), length)`` int32 ids, truncated or padded with 0 at the end."""
        out = np.zeros((len(texts), length), np.int32)
        for i, t in enumerate(texts):
            ids = self.encode(t)[:length]
            out[i, : len(ids)] = ids
        return out

    def decode(self, ids) -> str:
        return " ".join(self.tokens[i] for i in np.asarray(ids).ravel().tolist() if i > 0)


# -- sentiment: UCI sentiment labelled sentences -----------------------------------------

SENTIMENT_FILES = ("amazon_cells_labelled.txt", "imdb_labelled.txt", "yelp_labelled.txt")
SENTIMENT_SUBDIR = "text/sentiment_labelled_sentences"
SENTIMENT_MAX_LEN = 40
SENTIMENT_MAX_TOKENS = 5000


def read_sentiment(data_dir=None) -> tuple[list[str], np.ndarray, list[str]]:
    """All 3,000 sentences, their 0/1 labels, and the source (amazon/imdb/yelp) of each.

    Lines are split on ``"\\n"`` only: the imdb file has U+0085 inside sentences.
    """
    root = fetch("sentiment", data_dir)
    sentences, labels, sources = [], [], []
    for name in SENTIMENT_FILES:
        path = root / name
        if not path.exists():
            raise DataError(f"missing {path} (expected the UCI files {SENTIMENT_FILES} in {root})")
        for n, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
            if not line.strip():
                continue
            text, sep, label = line.rpartition("\t")
            if not sep or label.strip() not in ("0", "1"):
                raise DataError(f"{path}:{n}: expected 'sentence<TAB>0|1', given {line[:60]!r}")
            sentences.append(text.strip())
            labels.append(int(label))
            sources.append(name.split("_")[0])
    return sentences, np.array(labels, np.int64), sources


@functools.lru_cache(maxsize=4)
def _sentiment_texts(data_dir) -> dict:
    sentences, labels, _ = read_sentiment(data_dir)
    idx = np.arange(len(sentences))
    parts = partition(idx, labels, val=0.1, test=0.2, seed=0)
    return {split: ([sentences[i] for i in ids], y)
            for split, (ids, y) in zip(("train", "val", "test"), parts)}


def sentiment_texts(data_dir=None) -> dict:
    """``{"train"|"val"|"test": (sentences, labels)}``: the fixed split, 2100/300/600.

    Stratified by label with seed 0, so every family and baseline sees the same split.
    """
    return _sentiment_texts(str(data_dir) if data_dir else None)


def sentiment_vocab(data_dir=None, max_tokens: int = SENTIMENT_MAX_TOKENS) -> WordVocab:
    """The word vocabulary of the training sentences (what the ``sentiment`` ids use)."""
    return WordVocab.from_texts(sentiment_texts(data_dir)["train"][0], max_tokens=max_tokens)


@register_dataset("sentiment", needs_data_dir=True,
                  description="UCI sentiment labelled sentences (3000, binary), word ids")
def sentiment_splits(data_dir=None, *, max_len: int = SENTIMENT_MAX_LEN,
                     max_tokens: int = SENTIMENT_MAX_TOKENS):
    """``Splits`` of word ids (``(n, max_len)`` int32, 0-padded) and 0/1 labels."""
    texts = sentiment_texts(data_dir)
    vocab = sentiment_vocab(data_dir, max_tokens)
    arrays = {s: (vocab.encode_batch(t, max_len), y) for s, (t, y) in texts.items()}
    return make_splits("sentiment", arrays["train"], arrays["val"], arrays["test"],
                       num_classes=2, class_names=("negative", "positive"),
                       vocabulary=vocab.to_json(), model_kwargs={"vocab_size": vocab.size},
                       description=f"UCI sentiment sentences as word ids ({vocab.size} words)")


# -- Tiny Shakespeare characters ---------------------------------------------------------

SHAKESPEARE_FILE = "tinyshakespeare/input.txt"
CHAR_SEQ_LEN = 128


def read_shakespeare(data_dir=None) -> str:
    path = fetch("tiny-shakespeare", data_dir) / "input.txt"
    return path.read_text(encoding="utf-8")


def char_corpus(data_dir=None) -> tuple[np.ndarray, np.ndarray, CharVocab]:
    """Tiny Shakespeare as ``(train_ids, val_ids, vocab)``: first 90% / last 10%.

    The split and the 65-character vocabulary (of the whole text) are nanoGPT's.
    """
    text = read_shakespeare(data_dir)
    vocab = CharVocab.from_text(text)
    ids = vocab.encode(text)
    n = int(0.9 * len(ids))
    return ids[:n], ids[n:], vocab


def char_windows(ids, seq_len: int, stride: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)`` windows of ``seq_len`` ids and the same shifted by one character."""
    ids = np.asarray(ids, np.int32)
    stride = stride or seq_len
    if len(ids) < seq_len + 1:
        raise DataError(f"need more than seq_len={seq_len} ids, given {len(ids)}")
    starts = np.arange(0, len(ids) - seq_len, stride)
    take = starts[:, None] + np.arange(seq_len + 1)
    windows = ids[take]
    return windows[:, :-1], windows[:, 1:]


@register_dataset("tiny-shakespeare", needs_data_dir=True,
                  description="Tiny Shakespeare characters, 128-char windows, nanoGPT 90/10 split")
def shakespeare_splits(data_dir=None, *, seq_len: int = CHAR_SEQ_LEN, stride: int | None = None):
    """Next-character ``Splits``: x and y are ``(n, seq_len)`` ids; y is x shifted by one.

    Training windows start every ``stride`` characters (default ``seq_len``: no overlap);
    a smaller stride lets each pass over the shuffled windows start sequences at other
    offsets, as nanoGPT's random batches do. Validation windows never overlap. "val" is
    the held-out last 10%; "test" is the same text (nanoGPT reports validation loss
    only), so test loss = val loss.
    """
    train_ids, val_ids, vocab = char_corpus(data_dir)
    train = char_windows(train_ids, seq_len, stride)
    val = char_windows(val_ids, seq_len)
    return make_splits("tiny-shakespeare", train, val, val, num_classes=vocab.size,
                       class_names=tuple(vocab.tokens), vocabulary=vocab.to_json(),
                       description="Tiny Shakespeare next-character prediction")


# -- dates in many written forms -> ISO 8601 ---------------------------------------------

_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen "
         "fourteen fifteen sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_ORD = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
        "nine": "ninth", "twelve": "twelfth"}


def number_words(n: int) -> str:
    """0..99 in words: 42 -> "forty-two"."""
    if n < 20:
        return _ONES[n]
    tens, ones = divmod(n, 10)
    return _TENS[tens] + (f"-{_ONES[ones]}" if ones else "")


def ordinal_words(n: int) -> str:
    """1..31 as an ordinal in words: 23 -> "twenty-third"."""
    head, _, last = number_words(n).rpartition("-")
    last = _ORD.get(last, last[:-1] + "ieth" if last.endswith("y") else last + "th")
    return f"{head}-{last}" if head else last


def year_words(y: int) -> str:
    """1994 -> "nineteen ninety-four", 2005 -> "two thousand five", 1900 -> "nineteen hundred"."""
    hi, lo = divmod(y, 100)
    if hi == 20 and lo < 10:
        return "two thousand" + (f" {_ONES[lo]}" if lo else "")
    if lo == 0:
        return f"{number_words(hi)} hundred"
    return f"{number_words(hi)} {'oh-' + _ONES[lo] if lo < 10 else number_words(lo)}"


def _month(d, short=False):
    name = d.strftime("%B").lower()
    return name[:3] if short else name


DATE_FORMATS = {
    "d_month_y": lambda d: f"{d.day} {_month(d)} {d.year}",
    "month_d_comma_y": lambda d: f"{_month(d)} {d.day}, {d.year}",
    "dd/mm/yyyy": lambda d: d.strftime("%d/%m/%Y"),
    "yyyy.mm.dd": lambda d: d.strftime("%Y.%m.%d"),
    "yyyy/mm/dd": lambda d: d.strftime("%Y/%m/%d"),
    "wkd_d_mon_y": lambda d: f"{d.strftime('%a').lower()} {d.day} {_month(d, True)} {d.year}",
    "weekday_month_d_y": lambda d: f"{d.strftime('%A').lower()}, {_month(d)} {d.day}, {d.year}",
    "words": lambda d: f"the {ordinal_words(d.day)} of {_month(d)} {year_words(d.year)}",
    "d_month_y_words": lambda d: f"{d.day} {_month(d)} {year_words(d.year)}",
    "month_ordinal_y": lambda d: f"{_month(d)} {ordinal_words(d.day)}, {d.year}",
    # held out by default: each recombines pieces the training formats contain, and the
    # training formats vary those pieces independently (both separators "/" and "." come
    # with both orders, day-first and year-first; years in words follow two different
    # day-month forms), so every held-out reading is implied
    "d_mon_y": lambda d: f"{d.day} {_month(d, True)} {d.year}",
    "dd.mm.yyyy": lambda d: d.strftime("%d.%m.%Y"),
    "month_d_y_words": lambda d: f"{_month(d)} {d.day}, {year_words(d.year)}",
}
HELDOUT_FORMATS = ("d_mon_y", "dd.mm.yyyy", "month_d_y_words")
TRAIN_FORMATS = tuple(f for f in DATE_FORMATS if f not in HELDOUT_FORMATS)
DATE_RANGE = (datetime.date(1900, 1, 1), datetime.date(2099, 12, 31))

DATE_SOURCE_CHARS = sorted(set("abcdefghijklmnopqrstuvwxyz0123456789 ,-/."))
DATE_TARGET_CHARS = sorted(set("0123456789-"))


def dates_vocab() -> CharVocab:
    """One character vocabulary for dates sources and targets, with start/end markers.

    Ids: 0 padding, 1 ``<s>``, 2 ``</s>``, 3 ``<oov>``, then characters.
    """
    return CharVocab(sorted(set(DATE_SOURCE_CHARS) | set(DATE_TARGET_CHARS)), (START, END, OOV))


def dates_task(n: int, seed: int = 0, formats=TRAIN_FORMATS) -> tuple[list[str], list[str]]:
    """``n`` (written date, ISO date) pairs, deterministic for a seed.

    Dates are uniform in 1900-2099; each pair uses one of ``formats`` (names from
    ``DATE_FORMATS``) chosen uniformly. Held-out evaluation: ``formats=HELDOUT_FORMATS``.
    """
    unknown = [f for f in formats if f not in DATE_FORMATS]
    if unknown:
        raise DataError(f"unknown date formats {unknown}; valid: {sorted(DATE_FORMATS)}")
    rng = np.random.default_rng(seed)
    span = (DATE_RANGE[1] - DATE_RANGE[0]).days + 1
    days = rng.integers(0, span, n)
    which = rng.integers(0, len(formats), n)
    src, tgt = [], []
    for k, f in zip(days.tolist(), which.tolist()):
        d = DATE_RANGE[0] + datetime.timedelta(days=k)
        src.append(DATE_FORMATS[formats[f]](d))
        tgt.append(d.isoformat())
    return src, tgt


DATES_SOURCE_LEN = 56
DATES_TARGET_LEN = 10  # "yyyy-mm-dd"


def encode_seq2seq(sources, targets, vocab: CharVocab, source_len: int = DATES_SOURCE_LEN,
                   target_len: int = DATES_TARGET_LEN) -> dict:
    """Arrays for teacher forcing: ``source`` ids, ``decoder_in`` (``<s>`` + target)
    and ``decoder_out`` (target + ``</s>``), each 0-padded to its length."""
    start, end = vocab.index[START], vocab.index[END]
    n = len(sources)
    src = np.zeros((n, source_len), np.int32)
    dec_in = np.zeros((n, target_len + 1), np.int32)
    dec_out = np.zeros((n, target_len + 1), np.int32)
    for i, (s, t) in enumerate(zip(sources, targets)):
        s_ids, t_ids = vocab.encode(s)[:source_len], vocab.encode(t)[:target_len]
        src[i, : len(s_ids)] = s_ids
        dec_in[i, 0] = start
        dec_in[i, 1: len(t_ids) + 1] = t_ids
        dec_out[i, : len(t_ids)] = t_ids
        dec_out[i, len(t_ids)] = end
    return {"source": src, "decoder_in": dec_in, "decoder_out": dec_out}


def dates_splits(train_pairs: int = 20000, val_pairs: int = 1000,
                 test_pairs: int = 2000) -> tuple[Splits, dict]:
    """The dates task both seq2seq families are measured on, as ``(splits, pairs)``.

    Train and validation pairs come from ``TRAIN_FORMATS`` (seeds 0 and 1), test pairs
    only from ``HELDOUT_FORMATS`` (seed 2), so test accuracy measures generalization to
    unseen ways of writing a date. ``splits`` holds ``((source, decoder_in),
    decoder_out)`` arrays (see :func:`encode_seq2seq`, vocabulary :func:`dates_vocab`);
    ``pairs`` the same examples as ``{"train"|"val"|"test": (sources, targets)}`` strings.
    """
    vocab = dates_vocab()
    pairs = {"train": dates_task(train_pairs, seed=0), "val": dates_task(val_pairs, seed=1),
             "test": dates_task(test_pairs, seed=2, formats=HELDOUT_FORMATS)}
    arrays = {k: encode_seq2seq(*v, vocab) for k, v in pairs.items()}
    xy = {k: ((a["source"], a["decoder_in"]), a["decoder_out"]) for k, a in arrays.items()}
    info = DatasetInfo("dates", "seq2seq", (DATES_SOURCE_LEN,), splits={k: len(v[1]) for k, v in xy.items()},
                       description="written dates -> ISO 8601; test formats unseen in training")
    return Splits(xy["train"], xy["val"], xy["test"], info), pairs
