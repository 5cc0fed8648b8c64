"""Positional encodings added to token embeddings: fixed sinusoids or learned vectors."""
import numpy as np

from tfmodels._keras import keras, tf

layers = keras.layers


def sinusoids(length, dim):
    """Vaswani et al. (2017): PE[p, 2i] = sin(p / 10000^(2i/d)), PE[p, 2i+1] = cos(...)."""
    pos = np.arange(length)[:, None]
    rates = 1.0 / np.power(10000.0, np.arange(0, dim, 2) / dim)
    table = np.zeros((length, dim), np.float32)
    table[:, 0::2] = np.sin(pos * rates)
    table[:, 1::2] = np.cos(pos * rates)[:, : dim // 2]
    return table


@keras.utils.register_keras_serializable(package="tfmodels")
class PositionEmbedding(layers.Layer):
    """``x + P[offset : offset+T]`` with P learned (``kind="learned"``) or sinusoidal.

    ``max_length`` bounds the positions; ``offset`` (a scalar) shifts them, for
    incremental decoding. Unlike Vaswani et al. (2017, section 3.4), ``x`` is not scaled
    by sqrt(d) before the sinusoids are added. With the scale, the dates seq2seq
    transformer fit its training formats much faster, but it stopped reading the
    held-out "dd.mm.yyyy" format (0.05 exact match against 1.0, in one benchmark run).
    """

    def __init__(self, max_length, kind="learned", **kwargs):
        super().__init__(**kwargs)
        if kind not in ("learned", "sinusoidal"):
            raise ValueError(f"kind must be 'learned' or 'sinusoidal', given {kind!r}")
        self.max_length, self.kind = max_length, kind

    def build(self, input_shape):
        dim = input_shape[-1]
        if self.kind == "learned":
            self.table = self.add_weight(
                name="embeddings", shape=(self.max_length, dim),
                initializer=keras.initializers.RandomNormal(stddev=0.02))
        else:
            self.table = tf.constant(sinusoids(self.max_length, dim))
        super().build(input_shape)

    def call(self, x, offset=0):
        t = tf.shape(x)[1]
        if x.shape[1] is not None and x.shape[1] > self.max_length:
            raise ValueError(f"sequence of {x.shape[1]} tokens exceeds max_length={self.max_length}")
        return x + tf.cast(tf.gather(self.table, tf.range(t) + offset), x.dtype)

    def get_config(self):
        return {**super().get_config(), "max_length": self.max_length, "kind": self.kind}
