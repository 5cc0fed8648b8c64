"""Recurrent family: builders, training steps, SavedModel round trips, TFLite builtin-only
conversion, the streaming char LM against Keras, seq2seq decoding and attention."""
import numpy as np
import pytest

import tfmodels
from tfmodels._keras import keras, tf
from tfmodels.convert import tflite_ops, to_tflite
from tfmodels.errors import UnknownNameError
from tfmodels.layers import AdditiveAttention
from tfmodels.models import rnn

DEFAULT_PARAMS = {"simple_rnn": 328_386, "lstm": 353_154, "gru": 345_090, "rnn_forecaster": 4_385,
                  "char_lm": 1_219_778, "char_lm_step": 1_219_778, "seq2seq_lstm": 206_701}
RNG = np.random.default_rng(0)


def ids(n, t, vocab=30):
    return RNG.integers(1, vocab, (n, t)).astype(np.int32)


def test_registered_family_and_default_sizes():
    names = {s.name for s in tfmodels.list_models("rnn")}
    assert names == set(DEFAULT_PARAMS)
    for name, params in DEFAULT_PARAMS.items():
        assert tfmodels.build(name).count_params() == params, name
        assert f"{params:,} parameters" in tfmodels.registry.get_spec(name).builder.__doc__


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(UnknownNameError, match="lstm"):
        rnn.char_lm(cell="lstmm")
    with pytest.raises(ValueError, match=r"token ids \(T,\).*given \(10, 3\)"):
        rnn.lstm(input_shape=(10, 3))
    with pytest.raises(ValueError, match=r"dense features"):
        rnn.gru(input_shape=(10,), vocab_size=None)


def _train_step_changes_loss(model, x, y, loss):
    model.compile(keras.optimizers.Adam(1e-2), loss)
    first = model.train_on_batch(x, y)
    for _ in range(3):
        last = model.train_on_batch(x, y)
    assert np.isfinite(first) and np.isfinite(last) and last < first


def _reload_same(model, x, tmp_path):
    model.save(str(tmp_path / model.name), save_format="tf")
    back = keras.models.load_model(str(tmp_path / model.name), compile=False)
    np.testing.assert_allclose(back.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


@pytest.mark.parametrize("name,kw", [
    ("simple_rnn", {"bidirectional": True}),
    ("lstm", {"num_layers": 2, "pooling": "max", "dropout": 0.1}),
    ("gru", {"pooling": "avg"}),
])
def test_classifier_trains_and_reloads(name, kw, tmp_path):
    model = tfmodels.build(name, input_shape=(12,), vocab_size=30, embedding_dim=8, units=8,
                           num_classes=3, **kw)
    x, y = ids(16, 12), RNG.integers(0, 3, 16)
    assert model.predict(x, verbose=0).shape == (16, 3)
    _train_step_changes_loss(model, x, y, "sparse_categorical_crossentropy")
    _reload_same(model, x, tmp_path)


def test_dense_regressor_and_forecaster_follow_the_last_value(tmp_path):
    reg = rnn.lstm(input_shape=(9, 2), vocab_size=None, units=4, num_classes=1, classifier_activation=None)
    assert reg.predict(np.zeros((3, 9, 2)), verbose=0).shape == (3, 1)
    model = rnn.rnn_forecaster(input_shape=(9, 1), units=4, scale=2.0)
    x = RNG.normal(size=(32, 9, 1)).astype(np.float32) * 5 + 100
    delta = model.get_layer("delta")
    delta.set_weights([np.zeros_like(w) for w in delta.get_weights()])
    np.testing.assert_allclose(model.predict(x, verbose=0), x[:, -1], rtol=1e-6)  # f = 0 -> last value
    y = x[:, -1] + np.sin(x[:, -2])
    _train_step_changes_loss(model, x, y, "mse")
    shifted = model.predict(x + 50.0, verbose=0) - 50.0  # level-invariant: only changes matter
    np.testing.assert_allclose(shifted, model.predict(x, verbose=0), atol=1e-3)
    _reload_same(model, x, tmp_path)


@pytest.fixture(scope="module")
def tiny_lm():
    tf.keras.utils.set_random_seed(1)
    lm = rnn.char_lm(num_classes=20, units=16, embedding_dim=8, num_layers=2)
    x = ids(8, 24, 20)
    lm.compile(keras.optimizers.Adam(1e-2), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    first = lm.train_on_batch(x[:, :-1], x[:, 1:])
    last = [lm.train_on_batch(x[:, :-1], x[:, 1:]) for _ in range(3)][-1]
    assert np.isfinite(last) and last < first
    return lm


def test_streaming_step_matches_full_sequence(tiny_lm, tmp_path):
    step = rnn.streaming_char_lm(tiny_lm)
    x = ids(1, 30, 20)
    full = tiny_lm.predict(x, verbose=0)[0]
    states, fn, got = rnn.zero_states(step), rnn.keras_step_fn(step), []
    assert [s.shape for s in states] == [(1, 16)] * 4  # h, c for each of 2 layers
    for t in range(30):
        logits, states = fn(x[:, t:t + 1], states)
        got.append(logits[0])
    np.testing.assert_allclose(np.array(got), full, atol=1e-5)
    _reload_same(tiny_lm, x, tmp_path)
    step.save(str(tmp_path / "step"), save_format="tf")
    back = keras.models.load_model(str(tmp_path / "step"), compile=False)
    feed = [x[:, :1], *rnn.zero_states(step)]
    for a, b in zip(back.predict(feed, verbose=0), step.predict(feed, verbose=0)):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_streaming_tflite_generates_like_keras(tiny_lm, tmp_path):
    from tfmodels_edge import EdgeModel

    step = rnn.streaming_char_lm(tiny_lm)
    flat = to_tflite(step, "float32")
    assert not any(o.startswith("CUSTOM") for o in tflite_ops(flat)) and "WHILE" not in tflite_ops(flat)
    (tmp_path / "step.tflite").write_bytes(flat)
    edge = EdgeModel(tmp_path / "step.tflite")
    keras_ids = rnn.sample_chars(rnn.keras_step_fn(step), rnn.zero_states(step), [3, 4, 5], 25, temperature=0)
    edge_ids = rnn.sample_chars(rnn.edge_step_fn(edge, step), rnn.zero_states(step), [3, 4, 5], 25,
                                temperature=0)
    assert keras_ids == edge_ids
    dyn = to_tflite(step, "dynamic")
    assert not any(o.startswith("CUSTOM") for o in tflite_ops(dyn)) and len(dyn) < len(flat)


def _assert_converts(model, rep, signature=None):
    sizes = {}
    for mode in ("float32", "int8"):
        flat = to_tflite(model, mode, representative=rep, input_signature=signature)
        ops = tflite_ops(flat)
        assert not any(o.startswith("CUSTOM") for o in ops), ops
        sizes[mode] = (len(flat), ops)
    return sizes


def test_lstm_classifier_converts_to_fused_builtin_op():
    model = rnn.lstm(input_shape=(12,), vocab_size=30, embedding_dim=8, units=8)
    sizes = _assert_converts(model, ids(20, 12))
    assert "UNIDIRECTIONAL_SEQUENCE_LSTM" in sizes["float32"][1] and "WHILE" not in sizes["float32"][1]
    assert sizes["int8"][0] < sizes["float32"][0]


def test_gru_unrolled_converts_int8():
    model = rnn.gru(input_shape=(12,), vocab_size=30, embedding_dim=8, units=8, unroll=True)
    sizes = _assert_converts(model, ids(20, 12))
    assert "WHILE" not in sizes["int8"][1]


def test_char_lm_and_forecaster_convert(tiny_lm):
    sig = [tf.TensorSpec((1, 24), tf.int32, name="inputs")]
    assert "UNIDIRECTIONAL_SEQUENCE_LSTM" in _assert_converts(tiny_lm, ids(20, 24, 20), sig)["int8"][1]
    _assert_converts(rnn.rnn_forecaster(input_shape=(9, 1), units=4),
                     RNG.normal(size=(20, 9, 1)).astype(np.float32))


def test_additive_attention_masks_padding_and_reloads():
    att = AdditiveAttention(6)
    q, v = RNG.normal(size=(2, 3, 4)).astype(np.float32), RNG.normal(size=(2, 5, 4)).astype(np.float32)
    src = np.array([[1, 2, 3, 0, 0], [1, 1, 1, 1, 1]], np.int32)
    context, w = att(q, v, src)
    w = w.numpy()
    np.testing.assert_allclose(w.sum(-1), 1.0, atol=1e-6)
    assert w[0, :, 3:].max() < 1e-12 and w[1].min() > 0
    np.testing.assert_allclose(context.numpy(), w @ v, atol=1e-5)
    clone = AdditiveAttention.from_config(att.get_config())
    assert clone.units == 6


@pytest.fixture(scope="module")
def seq2seq():
    tf.keras.utils.set_random_seed(2)
    model = rnn.seq2seq_lstm(source_vocab_size=12, embedding_dim=8, units=16)
    src = ids(16, 7, 12)
    dec_in = np.concatenate([np.ones((16, 1), np.int32), src[:, :5]], 1)
    dec_out = np.concatenate([src[:, :5], np.full((16, 1), 2, np.int32)], 1)
    model.compile(keras.optimizers.Adam(1e-2),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    first = model.train_on_batch([src, dec_in], dec_out)
    last = [model.train_on_batch([src, dec_in], dec_out) for _ in range(3)][-1]
    assert np.isfinite(last) and last < first
    return model, src


def _log_prob(model, src, out):
    """Total log-probability the teacher-forced model gives the decoded sequence."""
    dec_in = np.concatenate([np.ones((len(out), 1), np.int32), out[:, :-1]], 1)
    logp = tf.nn.log_softmax(model([src, dec_in], training=False)).numpy()
    return np.array([sum(logp[i, t, out[i, t]] for t in range(out.shape[1]) if
                         t == 0 or out[i, t - 1] not in (0, 2)) for i in range(len(out))])


def test_greedy_and_beam_decoding_agree_with_teacher_forcing(seq2seq, tmp_path):
    model, src = seq2seq
    dec = rnn.Seq2SeqDecoder(model)
    greedy = dec.greedy(src[:4], max_len=6)
    # the step-by-step decoder is the teacher-forced model: its argmax reproduces each token
    dec_in = np.concatenate([np.ones((4, 1), np.int32), greedy[:, :-1]], 1)
    forced = model.predict([src[:4], dec_in], verbose=0).argmax(-1)
    for i in range(4):
        n = (list(greedy[i]) + [2]).index(2) + 1 if 2 in greedy[i] else 6
        np.testing.assert_array_equal(forced[i, :n], greedy[i, :n])
    np.testing.assert_array_equal(dec.beam_search(src[:4], 6, beam_width=1), greedy)
    beam = dec.beam_search(src[:4], 6, beam_width=3)
    assert np.all(_log_prob(model, src[:4], beam) >= _log_prob(model, src[:4], greedy) - 1e-4)
    model.save(str(tmp_path / "s2s"), save_format="tf")
    back = keras.models.load_model(str(tmp_path / "s2s"), compile=False)
    np.testing.assert_array_equal(rnn.Seq2SeqDecoder(back).greedy(src[:4], 6), greedy)
