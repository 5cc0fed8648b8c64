"""SequenceGRU: its training pass and hand-written gradient against Keras' GRU."""
import numpy as np
import pytest

from tfmodels._keras import keras, tf
from tfmodels.layers import SequenceGRU


def _pair(units=6, **kwargs):
    """A SequenceGRU and a Keras GRU with the same (random, non-zero-bias) weights."""
    fast, ref = SequenceGRU(units, **kwargs), keras.layers.GRU(units, **kwargs)
    x = np.random.default_rng(0).standard_normal((3, 7, 4)).astype(np.float32)
    fast(x), ref(x)
    weights = [w + 0.3 * np.random.default_rng(i).standard_normal(w.shape).astype(np.float32)
               for i, w in enumerate(ref.get_weights())]
    fast.set_weights(weights), ref.set_weights(weights)
    return fast, ref, x


def _value_and_grads(layer, x, h0=None, training=True):
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        if h0 is not None:
            tape.watch(h0)
        out = layer(x, training=training, initial_state=None if h0 is None else [h0])
        outs = out if isinstance(out, list) else [out]
        # a loss that weighs every output differently, so every step's gradient counts
        loss = sum(tf.reduce_sum(o * tf.reshape(tf.cos(tf.range(tf.size(o), dtype=tf.float32)), tf.shape(o)))
                   for o in outs)
    sources = [x, *layer.trainable_weights, *([] if h0 is None else [h0])]
    return [o.numpy() for o in outs], [g.numpy() for g in tape.gradient(loss, sources)]


@pytest.mark.parametrize("kwargs", [dict(return_sequences=True), dict(), dict(return_sequences=True, return_state=True)])
def test_training_pass_and_gradients_equal_keras_gru(kwargs):
    fast, ref, x = _pair(**kwargs)
    h0 = tf.constant(np.random.default_rng(5).standard_normal((3, 6)).astype(np.float32))
    for state in (None, h0):
        out_fast, grads_fast = _value_and_grads(fast, x, state)
        out_ref, grads_ref = _value_and_grads(ref, x, state)
        for a, b in zip(out_fast, out_ref, strict=True):
            np.testing.assert_allclose(a, b, atol=1e-5)
        for a, b in zip(grads_fast, grads_ref, strict=True):  # x, kernel, recurrent kernel, bias (, h0)
            assert np.abs(b).max() > 1e-3  # the reference gradient is not trivially zero
            np.testing.assert_allclose(a, b, atol=1e-4, rtol=1e-4)


def test_inference_is_keras_and_the_fast_path_only_trains():
    fast, ref, x = _pair(return_sequences=True)
    np.testing.assert_allclose(fast(x, training=False).numpy(), ref(x, training=False).numpy(), atol=1e-6)
    assert fast._fast(None, True) and not fast._fast(None, False) and not fast._fast(tf.ones((3, 7), bool), True)
    backwards, _, _ = _pair(go_backwards=True)
    assert not backwards._fast(None, True)  # runs as Keras' GRU


def test_config_round_trip_and_cell_weights():
    fast, _, x = _pair(return_sequences=True, name="gru_1")
    again = keras.layers.deserialize(keras.layers.serialize(fast))
    assert type(again) is SequenceGRU and again.get_config() == fast.get_config()
    cell = keras.layers.GRUCell(6)
    cell(tf.constant(x[:, 0]), [tf.zeros((3, 6))])
    cell.set_weights(fast.get_weights())  # the one-step cell takes the weights as they are
    h = tf.zeros((3, 6))
    for t in range(x.shape[1]):
        h = cell(tf.constant(x[:, t]), [h])[0]
    np.testing.assert_allclose(h.numpy(), fast(x, training=True).numpy()[:, -1], atol=1e-5)
