"""Additive attention (Bahdanau, Cho & Bengio 2014, "Neural Machine Translation by
Jointly Learning to Align and Translate"): score(q, k) = v^T tanh(W_q q + W_k k)."""
from tfmodels._keras import keras, tf

layers = keras.layers

NEG_INF = -1e9


@keras.utils.register_keras_serializable(package="tfmodels")
class AdditiveAttention(layers.Layer):
    """``call(query [b, Tq, dq], values [b, Tk, dv], value_ids=None)`` ->
    ``(context [b, Tq, dv], weights [b, Tq, Tk])``.

    ``value_ids`` (``[b, Tk]`` token ids) hides padding positions (id 0) from the softmax.
    """

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.w_query = layers.Dense(units, use_bias=False, name="w_query")
        self.w_key = layers.Dense(units, name="w_key")
        self.v = layers.Dense(1, use_bias=False, name="v")

    def call(self, query, values, value_ids=None):
        q = self.w_query(query)[:, :, None, :]  # [b, Tq, 1, u]
        k = self.w_key(values)[:, None, :, :]  # [b, 1, Tk, u]
        scores = tf.squeeze(self.v(tf.tanh(q + k)), -1)  # [b, Tq, Tk]
        if value_ids is not None:
            keep = tf.cast(tf.not_equal(value_ids, 0), scores.dtype)[:, None, :]
            scores += (1.0 - keep) * NEG_INF
        weights = tf.nn.softmax(scores, axis=-1)
        return tf.matmul(weights, values), weights

    def get_config(self):
        return {**super().get_config(), "units": self.units}
