"""Recurrent family: builders, training steps, SavedModel round trips, TFLite builtin-only
conversion matching Keras on padded sequences, the streaming char LM against Keras,
seq2seq decoding and attention. Tiny widths and lengths; each model trains once."""
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
T, VOCAB = 6, 20


def ids(n, t, vocab=VOCAB):
    return RNG.integers(1, vocab, (n, t)).astype(np.int32)


def padded_ids(n, t=T):
    """Ids right-padded with 0 (as the text loaders pad), lengths cycling over 1..t."""
    x = ids(n, t)
    x[np.arange(t)[None] >= (np.arange(n) % t + 1)[:, None]] = 0
    return x


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


def _train(model, x, y, loss, steps=4):
    """Train a few steps on one batch; the loss must fall."""
    model.compile(keras.optimizers.Adam(1e-2), loss)
    losses = [model.train_on_batch(x, y) for _ in range(steps)]
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0], losses


def _reload_same(model, x, tmp_path):
    model.save(str(tmp_path / model.name), save_format="tf")
    back = keras.models.load_model(str(tmp_path / model.name), compile=False)
    np.testing.assert_allclose(back.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


def _edge_outputs(flat, x, tmp_path, name):
    """Builtin-only check, then the flatbuffer's outputs on ``x`` through the edge kit
    (one sample per invocation on the same interpreter, as a device runs it)."""
    from tfmodels_edge import EdgeModel

    ops = tflite_ops(flat)
    assert not any(o.startswith("CUSTOM") for o in ops), ops
    (tmp_path / f"{name}.tflite").write_bytes(flat)
    return EdgeModel(tmp_path / f"{name}.tflite").predict(x), ops


# -- classifiers: trained once per cell, then reloaded and converted ------------------

CLASSIFIERS = {"simple_rnn": {"bidirectional": True},
               "lstm": {"num_layers": 2, "pooling": "max", "dropout": 0.1},
               "gru": {"pooling": "avg"}}


@pytest.fixture(scope="module", params=list(CLASSIFIERS))
def classifier(request):
    tf.keras.utils.set_random_seed(0)
    model = tfmodels.build(request.param, input_shape=(T,), vocab_size=VOCAB, embedding_dim=4, units=4,
                           num_classes=3, **CLASSIFIERS[request.param])
    x = padded_ids(16)
    assert model.predict(x, verbose=0).shape == (16, 3)
    _train(model, x, RNG.integers(0, 3, 16), "sparse_categorical_crossentropy")
    return model


def test_classifier_reloads(classifier, tmp_path):
    _reload_same(classifier, padded_ids(8), tmp_path)


def test_classifier_tflite_matches_keras_on_padded_sequences(classifier, tmp_path):
    """Every length 1..T, zero-padded, run one after another on one interpreter: a
    converted model that kept state between invocations (TFLite's fused LSTM op) or
    handled padding differently would differ here."""
    x = padded_ids(4 * T)
    expected = classifier.predict(x, verbose=0)
    out, ops = _edge_outputs(to_tflite(classifier, "float32"), x, tmp_path, "float32")
    assert "WHILE" not in ops and "UNIDIRECTIONAL_SEQUENCE_LSTM" not in ops, ops
    assert np.abs(out - expected).max() < 1e-5
    if tfmodels.get_spec(classifier.name).edge_ready:  # lstm, gru: int8 too
        flat = to_tflite(classifier, "int8", representative=padded_ids(64))
        q, _ = _edge_outputs(flat, x, tmp_path, "int8")
        assert q.dtype == np.float32 and np.abs(q - expected).max() < 0.05
        assert np.mean(q.argmax(-1) == expected.argmax(-1)) >= 0.9


# -- regressors and the forecaster ------------------------------------------------------

def test_dense_regressor_and_forecaster_follow_the_last_value(tmp_path):
    reg = rnn.lstm(input_shape=(T, 2), vocab_size=None, units=4, num_classes=1, classifier_activation=None)
    assert reg.predict(np.zeros((3, T, 2)), verbose=0).shape == (3, 1)
    model = rnn.rnn_forecaster(input_shape=(T, 1), units=4, scale=2.0)
    x = RNG.normal(size=(32, T, 1)).astype(np.float32) * 5 + 100
    delta = model.get_layer("delta")
    delta.set_weights([np.zeros_like(w) for w in delta.get_weights()])
    np.testing.assert_allclose(model.predict(x, verbose=0), x[:, -1], rtol=1e-6)  # f = 0 -> last value
    _train(model, x, x[:, -1] + np.sin(x[:, -2]), "mse")
    expected = model.predict(x, verbose=0)
    np.testing.assert_allclose(model.predict(x + 50.0, verbose=0) - 50.0, expected, atol=1e-3)  # level-invariant
    _reload_same(model, x, tmp_path)
    out, ops = _edge_outputs(to_tflite(model, "float32"), x[:8], tmp_path, "float32")
    assert "UNIDIRECTIONAL_SEQUENCE_LSTM" not in ops
    np.testing.assert_allclose(out, expected[:8], rtol=1e-5)
    q, _ = _edge_outputs(to_tflite(model, "int8", representative=x), x[:8], tmp_path, "int8")
    assert np.abs(q - expected[:8]).max() < 0.05 * np.ptp(x)


# -- character language model and its streaming twin ----------------------------------

@pytest.fixture(scope="module")
def tiny_lm():
    tf.keras.utils.set_random_seed(1)
    lm = rnn.char_lm(num_classes=VOCAB, units=8, embedding_dim=4, num_layers=2)
    x = ids(8, 13)
    lm.compile(keras.optimizers.Adam(1e-2), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    losses = [lm.train_on_batch(x[:, :-1], x[:, 1:]) for _ in range(4)]
    assert np.isfinite(losses[-1]) and losses[-1] < losses[0]
    return lm


def test_streaming_step_matches_full_sequence(tiny_lm, tmp_path):
    step = rnn.streaming_char_lm(tiny_lm)
    x = ids(1, 12)
    full = tiny_lm.predict(x, verbose=0)[0]
    states, fn, got = rnn.zero_states(step), rnn.keras_step_fn(step), []
    assert [s.shape for s in states] == [(1, 8)] * 4  # h, c for each of 2 layers
    for t in range(12):
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
    keras_ids = rnn.sample_chars(rnn.keras_step_fn(step), rnn.zero_states(step), [3, 4, 5], 15, temperature=0)
    edge_ids = rnn.sample_chars(rnn.edge_step_fn(edge, step), rnn.zero_states(step), [3, 4, 5], 15,
                                temperature=0)
    assert keras_ids == edge_ids
    q = to_tflite(step, "int8", representative=[ids(20, 1), *[RNG.normal(size=(20, 8)) for _ in range(4)]])
    assert not any(o.startswith("CUSTOM") for o in tflite_ops(q)) and len(q) < len(flat)


def test_gru_char_lm_trains_as_keras_gru_and_streams(tmp_path):
    """The GRU char LM trains through SequenceGRU's hand-written gradient: the same
    losses step for step as the same network on Keras' GRU; its streaming twin and its
    reload (SavedModel and .keras) give the sequence model's logits."""
    from tfmodels.layers import SequenceGRU, with_keras_gru

    lm = rnn.char_lm(num_classes=VOCAB, units=8, embedding_dim=4, cell="gru")
    assert type(lm.get_layer("gru_1")) is SequenceGRU
    plain = with_keras_gru(lm)
    assert type(plain.get_layer("gru_1")) is keras.layers.GRU
    x = ids(8, 13)
    losses = []
    for m in (lm, plain):
        m.compile(keras.optimizers.Adam(1e-2), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        losses.append([m.train_on_batch(x[:, :-1], x[:, 1:]) for _ in range(5)])
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-5)
    assert losses[0][-1] < losses[0][0]
    step = rnn.streaming_char_lm(lm)
    states, fn, got = rnn.zero_states(step), rnn.keras_step_fn(step), []
    for t in range(12):
        logits, states = fn(x[:1, t:t + 1], states)
        got.append(logits[0])
    np.testing.assert_allclose(np.array(got), lm.predict(x[:1, :12], verbose=0)[0], atol=1e-5)
    _reload_same(lm, x, tmp_path)
    lm.save(tmp_path / "lm.keras")
    back = keras.models.load_model(tmp_path / "lm.keras", compile=False)
    assert type(back.get_layer("gru_1")) is SequenceGRU


@pytest.mark.parametrize("jit_compile", [True, False])
def test_compiled_generation_loop_matches_the_step_function(tiny_lm, jit_compile):
    """generate_chars (one compiled while loop) carries the state as sample_chars does:
    the same greedy ids; sampled ids are valid, reproducible per seed, and move with it."""
    step = rnn.streaming_char_lm(tiny_lm)
    greedy = rnn.sample_chars(rnn.keras_step_fn(step), rnn.zero_states(step), [3, 4, 5], 15, temperature=0)
    assert rnn.generate_chars(step, [3, 4, 5], 15, temperature=0, jit_compile=jit_compile) == greedy
    a, b, c = (rnn.generate_chars(step, [3, 4, 5], 40, temperature=1.0, seed=s, jit_compile=jit_compile)
               for s in (0, 0, 1))
    assert a == b and a != c and len(a) == 40 and all(0 <= i < VOCAB for i in a)
    with pytest.raises(ValueError, match="prompt"):
        rnn.generate_chars(step, [], 5)


def test_char_lm_sequence_model_converts_to_the_stateful_fused_op():
    """Not unrolled (char_lm's default: T is free), an LSTM converts at batch 1 to the
    fused op, which starts each invocation from the previous one's final state. Why the
    classifiers unroll by default and a device generates with char_lm_step."""
    lm = rnn.char_lm(num_classes=VOCAB, units=4, embedding_dim=4)
    lm.set_weights([w * 3 for w in lm.get_weights()])
    flat = to_tflite(lm, "float32", input_signature=[tf.TensorSpec((1, T), tf.int32, name="inputs")])
    ops = tflite_ops(flat)
    assert "UNIDIRECTIONAL_SEQUENCE_LSTM" in ops and not any(o.startswith("CUSTOM") for o in ops), ops
    interpreter = tf.lite.Interpreter(model_content=flat)
    interpreter.allocate_tensors()
    x, (inp,), (outp,) = ids(2, T), interpreter.get_input_details(), interpreter.get_output_details()

    def invoke(row):
        interpreter.set_tensor(inp["index"], row[None])
        interpreter.invoke()
        return interpreter.get_tensor(outp["index"])[0]

    expected = lm.predict(x, verbose=0)
    np.testing.assert_allclose(invoke(x[0]), expected[0], atol=1e-5)
    assert np.abs(invoke(x[1]) - expected[1]).max() > 1e-3  # x[0]'s final state leaked into x[1]
    interpreter.reset_all_variables()
    np.testing.assert_allclose(invoke(x[1]), expected[1], atol=1e-5)


# -- encoder-decoder with additive attention ------------------------------------------

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
    model = rnn.seq2seq_lstm(source_vocab_size=12, embedding_dim=4, units=8)
    src = ids(16, 5, 12)
    dec_in = np.concatenate([np.ones((16, 1), np.int32), src[:, :4]], 1)
    dec_out = np.concatenate([src[:, :4], np.full((16, 1), 2, np.int32)], 1)
    model.compile(keras.optimizers.Adam(1e-2),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    losses = [model.train_on_batch([src, dec_in], dec_out) for _ in range(4)]
    assert np.isfinite(losses[-1]) and losses[-1] < losses[0]
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
    model.save(tmp_path / "s2s.keras")  # the apps' format; a SavedModel of it takes ~40 s to trace
    back = keras.models.load_model(tmp_path / "s2s.keras", compile=False)
    np.testing.assert_array_equal(rnn.Seq2SeqDecoder(back).greedy(src[:4], 6), greedy)


def test_unrolled_seq2seq_computes_what_the_rolled_one_does(seq2seq):
    """unroll=True (fixed lengths) is the same network: the rolled model's weights give
    the same logits and the same greedy decoding; without lengths it refuses."""
    model, src = seq2seq
    unrolled = rnn.seq2seq_lstm(source_vocab_size=12, embedding_dim=4, units=8, source_len=5, target_len=5,
                                unroll=True)
    unrolled.set_weights(model.get_weights())
    dec_in = np.concatenate([np.ones((16, 1), np.int32), src[:, :4]], 1)
    np.testing.assert_allclose(unrolled.predict([src, dec_in], verbose=0), model.predict([src, dec_in], verbose=0),
                               atol=1e-5)
    np.testing.assert_array_equal(rnn.Seq2SeqDecoder(unrolled).greedy(src[:4], 6),
                                  rnn.Seq2SeqDecoder(model).greedy(src[:4], 6))
    with pytest.raises(ValueError, match="source_len and target_len"):
        rnn.seq2seq_lstm(source_vocab_size=12, unroll=True)
