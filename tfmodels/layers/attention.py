"""Attention written out: softmax(Q K^T / sqrt(d_k)) V with padding and causal masks.

Only matmul, reshape, transpose, softmax and elementwise ops (no einsum), so a model
built from these layers converts to TFLite builtin ops. Masks are boolean or 0/1,
broadcastable to ``[batch, heads, queries, keys]``; True/1 means "may attend".
"""
import math

from tfmodels._keras import keras, tf

layers = keras.layers

MASK_MARGIN = 20.0  # masked keys score this far below the row's lowest: weight < e^-20


def causal_mask(q_len, k_len=None, offset=0):
    """``[q_len, k_len]`` boolean mask: query i (at position offset+i) sees keys j <= offset+i."""
    k_len = q_len if k_len is None else k_len
    i = tf.range(q_len)[:, None] + offset
    j = tf.range(k_len)[None, :]
    return i >= j


def padding_mask(token_ids, pad_id=0):
    """``[batch, 1, 1, keys]`` boolean mask that hides padding tokens as keys."""
    return tf.not_equal(token_ids, pad_id)[:, None, None, :]


def scaled_dot_product_attention(q, k, v, mask=None, dropout=None, training=None):
    """``q [..., Tq, d]``, ``k, v [..., Tk, d]`` -> ``(output [..., Tq, d], weights [..., Tq, Tk])``."""
    scores = tf.matmul(q, k, transpose_b=True) * (1.0 / math.sqrt(q.shape[-1]))
    if mask is not None:
        # Not "+ -1e9": a huge constant would swamp the int8 range of the scores tensor.
        floor = tf.reduce_min(scores, axis=-1, keepdims=True) - MASK_MARGIN
        scores = tf.where(tf.cast(mask, tf.bool), scores, floor)
    weights = tf.nn.softmax(scores, axis=-1)
    if dropout is not None:
        weights = dropout(weights, training=training)
    return tf.matmul(weights, v), weights


@keras.utils.register_keras_serializable(package="tfmodels")
class MultiHeadAttention(layers.Layer):
    """Multi-head attention: project, split into heads, attend, merge, project back.

    ``call(x)`` is self-attention; ``call(x, context)`` cross-attention (keys and values
    from ``context``). ``causal=True`` adds the causal mask. With ``cache=(k, v, pos)``
    (keys/values of earlier positions, ``[batch, heads, max_len, key_dim]``) the new
    tokens' keys/values are written at ``pos..`` and attention covers positions ``<= pos+i``;
    the updated ``(k, v)`` are returned beside the output.
    """

    def __init__(self, num_heads, key_dim, dropout=0.0, use_bias=True, **kwargs):
        super().__init__(**kwargs)
        self.num_heads, self.key_dim, self.dropout, self.use_bias = num_heads, key_dim, dropout, use_bias
        width = num_heads * key_dim
        self.query = layers.Dense(width, use_bias=use_bias, name="query")
        self.key = layers.Dense(width, use_bias=use_bias, name="key")
        self.value = layers.Dense(width, use_bias=use_bias, name="value")
        self.attn_dropout = layers.Dropout(dropout)
        self.out = None  # needs the model width: made in build()

    def build(self, input_shape):
        self.out = layers.Dense(input_shape[-1], use_bias=self.use_bias, name="output")
        super().build(input_shape)

    def _split(self, x):  # [B, T, H*d] -> [B, H, T, d]
        x = tf.reshape(x, [-1, tf.shape(x)[1], self.num_heads, self.key_dim])
        return tf.transpose(x, [0, 2, 1, 3])

    def _merge(self, x):  # [B, H, T, d] -> [B, T, H*d]
        x = tf.transpose(x, [0, 2, 1, 3])
        return tf.reshape(x, [-1, tf.shape(x)[1], self.num_heads * self.key_dim])

    def call(self, x, context=None, mask=None, causal=False, cache=None, training=None,
             return_weights=False):
        context = x if context is None else context
        q, k, v = self._split(self.query(x)), self._split(self.key(context)), self._split(self.value(context))
        if cache is not None:
            k, v, mask = _write_cache(cache, k, v, mask)
        elif causal:
            c = causal_mask(tf.shape(q)[2], tf.shape(k)[2])
            mask = c if mask is None else tf.logical_and(tf.cast(mask, tf.bool), c)
        y, weights = scaled_dot_product_attention(q, k, v, mask, self.attn_dropout, training)
        y = self.out(self._merge(y))
        out = (y, weights) if return_weights else y
        return (out, (k, v)) if cache is not None else out

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads, "key_dim": self.key_dim,
                "dropout": self.dropout, "use_bias": self.use_bias}


def _write_cache(cache, k_new, v_new, mask):
    """Write T new keys/values at positions pos..pos+T-1 of a fixed-size cache.

    One-hot matmuls instead of scatter, so the decode step stays builtin-only in TFLite.
    """
    k_cache, v_cache, pos = cache
    max_len, t = tf.shape(k_cache)[2], tf.shape(k_new)[2]
    place = tf.one_hot(tf.range(t) + pos, max_len, dtype=k_cache.dtype)  # [T, max_len]
    keep = 1.0 - tf.reduce_sum(place, axis=0)[:, None]  # [max_len, 1]
    to_cache = tf.transpose(place)  # [max_len, T]
    k = k_cache * keep + tf.matmul(to_cache, k_new)
    v = v_cache * keep + tf.matmul(to_cache, v_new)
    c = causal_mask(t, max_len, offset=pos)
    mask = c if mask is None else tf.logical_and(tf.cast(mask, tf.bool), c)
    return k, v, mask
