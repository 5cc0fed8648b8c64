"""Transformer layers: attention against a numpy reference, masks, KV cache, positions,
pre/post-norm blocks, patch embedding, config round trips."""
import numpy as np
import pytest

from tfmodels._keras import keras, tf
from tfmodels.layers import (MLP, ClassToken, MultiHeadAttention, PatchEmbedding, PositionEmbedding,
                             TransformerBlock, causal_mask, padding_mask, scaled_dot_product_attention,
                             sinusoids)


def _np_attention(q, k, v, mask=None):
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    w = np.exp(s - s.max(-1, keepdims=True))
    w /= w.sum(-1, keepdims=True)
    return w @ v, w


def test_scaled_dot_product_attention_matches_the_formula():
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal((2, 3, 5, 8)).astype(np.float32) for _ in range(3))
    out, w = scaled_dot_product_attention(q, k, v)
    ref_out, ref_w = _np_attention(q, k, v)
    np.testing.assert_allclose(out.numpy(), ref_out, atol=1e-5)
    np.testing.assert_allclose(w.numpy().sum(-1), 1.0, atol=1e-6)
    mask = np.asarray(causal_mask(5))
    out, w = scaled_dot_product_attention(q, k, v, mask)
    np.testing.assert_allclose(out.numpy(), _np_attention(q, k, v, mask)[0], atol=1e-5)
    assert np.all(w.numpy()[..., ~mask] < 1e-8)  # no weight on future keys


def test_masks_have_the_right_shape_and_values():
    assert np.array_equal(causal_mask(3).numpy(), np.tril(np.ones((3, 3), bool)))
    assert np.array_equal(causal_mask(2, 4, offset=1).numpy(), [[1, 1, 0, 0], [1, 1, 1, 0]])
    m = padding_mask(tf.constant([[5, 3, 0, 0]]))
    assert m.shape == (1, 1, 1, 4) and m.numpy().ravel().tolist() == [True, True, False, False]


def test_masking_keeps_the_scores_range_small_for_int8():
    # masked keys sit MASK_MARGIN below the row's lowest score, not at -1e9, so an int8
    # scores tensor keeps its resolution; their weight is still below e^-20
    q = k = v = np.random.default_rng(9).standard_normal((1, 1, 3, 4)).astype(np.float32)
    w = scaled_dot_product_attention(q, k, v, np.array([True, True, False]))[1].numpy()
    assert np.all(w[..., 2] < np.exp(-20.0)) and np.all(w[..., 2] > 0.0)
    np.testing.assert_allclose(w.sum(-1), 1.0, atol=1e-6)


def test_padded_keys_get_no_weight_and_do_not_change_outputs():
    rng = np.random.default_rng(1)
    q, k, v = (rng.standard_normal((1, 2, 4, 8)).astype(np.float32) for _ in range(3))
    mask = padding_mask(tf.constant([[7, 7, 7, 0]]))
    out, w = scaled_dot_product_attention(q, k, v, mask)
    assert np.all(w.numpy()[..., 3] < 1e-8)
    k2, v2 = k.copy(), v.copy()
    k2[..., 3, :] += 100.0
    v2[..., 3, :] -= 50.0
    np.testing.assert_allclose(scaled_dot_product_attention(q, k2, v2, mask)[0].numpy(), out.numpy(), atol=1e-5)


def test_causal_attention_never_sees_the_future():
    layer = MultiHeadAttention(2, 4)
    x = np.random.default_rng(2).standard_normal((1, 6, 8)).astype(np.float32)
    y = layer(x, causal=True).numpy()
    x2 = x.copy()
    x2[:, 4:] = 9.0  # change the last two tokens
    y2 = layer(x2, causal=True).numpy()
    np.testing.assert_allclose(y2[:, :4], y[:, :4], atol=1e-6)
    assert np.abs(y2[:, 4:] - y[:, 4:]).max() > 1e-3
    # without the mask the past does change
    assert np.abs(layer(x2).numpy()[:, :4] - layer(x).numpy()[:, :4]).max() > 1e-3


def test_multi_head_attention_equals_per_head_numpy_reference():
    layer = MultiHeadAttention(2, 3)
    rng = np.random.default_rng(3)
    x, ctx = rng.standard_normal((1, 4, 6)).astype(np.float32), rng.standard_normal((1, 5, 6)).astype(np.float32)
    y = layer(x, ctx).numpy()
    (wq, bq), (wk, bk), (wv, bv), (wo, bo) = (l.get_weights() for l in (layer.query, layer.key, layer.value, layer.out))
    heads = []
    for h in range(2):
        s = slice(3 * h, 3 * h + 3)
        heads.append(_np_attention((x @ wq + bq)[..., s], (ctx @ wk + bk)[..., s], (ctx @ wv + bv)[..., s])[0])
    np.testing.assert_allclose(y, np.concatenate(heads, -1) @ wo + bo, atol=1e-5)


def test_kv_cache_step_by_step_equals_the_full_causal_pass():
    layer = MultiHeadAttention(2, 4)
    x = np.random.default_rng(4).standard_normal((2, 5, 8)).astype(np.float32)
    full = layer(x, causal=True).numpy()
    k = v = tf.zeros((2, 2, 7, 4))  # cache longer than the sequence
    y, (k, v) = layer(x[:, :3], cache=(k, v, 0))  # prefill 3 tokens
    np.testing.assert_allclose(y.numpy(), full[:, :3], atol=1e-5)
    for t in (3, 4):
        y, (k, v) = layer(x[:, t:t + 1], cache=(k, v, t))
        np.testing.assert_allclose(y.numpy()[:, 0], full[:, t], atol=1e-5)
    assert np.all(k.numpy()[:, :, 5:] == 0.0)  # nothing written past the last position


def test_sinusoids_follow_vaswani():
    pe = sinusoids(50, 16)
    p = np.arange(50)
    np.testing.assert_allclose(pe[:, 0], np.sin(p), atol=1e-6)
    np.testing.assert_allclose(pe[:, 1], np.cos(p), atol=1e-6)
    np.testing.assert_allclose(pe[:, 14], np.sin(p / 10000 ** (14 / 16)), atol=1e-6)
    layer = PositionEmbedding(50, "sinusoidal")
    x = np.zeros((1, 7, 16), np.float32)
    np.testing.assert_allclose(layer(x).numpy()[0], pe[:7], atol=1e-6)
    np.testing.assert_allclose(layer(x[:, :2], offset=5).numpy()[0], pe[5:7], atol=1e-6)
    ones = np.ones((1, 7, 16), np.float32)  # added as they are, not scaled by sqrt(d)
    np.testing.assert_allclose(layer(ones).numpy()[0], 1.0 + pe[:7], atol=1e-6)
    assert not layer.trainable_weights
    with pytest.raises(ValueError, match="kind"):
        PositionEmbedding(10, "rotary")


def test_learned_positions_are_weights_and_bounded():
    layer = PositionEmbedding(8)
    x = np.zeros((2, 8, 4), np.float32)
    y = layer(x).numpy()
    np.testing.assert_allclose(y[0], layer.get_weights()[0], atol=0)
    assert len(layer.trainable_weights) == 1
    with pytest.raises(ValueError, match="max_length=8"):
        layer(np.zeros((1, 9, 4), np.float32))


@pytest.mark.parametrize("norm", ["pre", "post"])
def test_block_norm_placement(norm):
    block = TransformerBlock(2, 16, norm=norm)
    x = 5.0 + 3.0 * np.random.default_rng(5).standard_normal((2, 4, 8)).astype(np.float32)
    y = block(x).numpy()
    assert y.shape == x.shape
    if norm == "post":  # ends with LayerNorm: each token normalized
        np.testing.assert_allclose(y.mean(-1), 0.0, atol=1e-4)
        np.testing.assert_allclose(y.std(-1), 1.0, atol=1e-2)
    else:  # residual stream passes through: x + f(LN(x)) keeps the input's offset
        assert abs(y.mean() - 5.0) < 2.0


def test_block_cross_attention_reads_the_context():
    block = TransformerBlock(2, 16, causal=True, cross_attention=True)
    rng = np.random.default_rng(6)
    x, ctx = rng.standard_normal((1, 3, 8)).astype(np.float32), rng.standard_normal((1, 5, 8)).astype(np.float32)
    y = block(x, context=ctx).numpy()
    assert np.abs(block(x, context=ctx + 1.0).numpy() - y).max() > 1e-3
    ctx_mask = padding_mask(tf.constant([[1, 1, 1, 0, 0]]))
    ctx2 = ctx.copy()
    ctx2[:, 3:] = 7.0  # masked context positions
    np.testing.assert_allclose(block(x, context=ctx2, context_mask=ctx_mask).numpy(),
                               block(x, context=ctx, context_mask=ctx_mask).numpy(), atol=1e-5)
    with pytest.raises(ValueError, match="context="):
        block(x)
    with pytest.raises(ValueError, match="norm"):
        TransformerBlock(2, 16, norm="sandwich")
    with pytest.raises(ValueError, match="divisible"):
        TransformerBlock(3, 16)(x)


def test_patch_embedding_is_flattened_patches_times_a_matrix():
    layer = PatchEmbedding(4, 5)
    img = np.random.default_rng(7).standard_normal((2, 8, 12, 3)).astype(np.float32)
    y = layer(img).numpy()
    assert y.shape == (2, 6, 5)
    kernel, bias = layer.get_weights()
    patches = img.reshape(2, 2, 4, 3, 4, 3).transpose(0, 1, 3, 2, 4, 5).reshape(2, 6, 48)
    np.testing.assert_allclose(y, patches @ kernel.reshape(48, 5) + bias, atol=1e-5)
    with pytest.raises(ValueError, match="divisible"):
        PatchEmbedding(5, 4)(img)
    seq = ClassToken()(y)
    assert seq.shape == (2, 7, 5) and np.all(seq.numpy()[:, 0] == 0.0)


@pytest.mark.parametrize("make, args", [
    (lambda: MultiHeadAttention(2, 4, dropout=0.1), 1),
    (lambda: TransformerBlock(2, 16, norm="post", causal=True), 1),
    (lambda: TransformerBlock(2, 16, cross_attention=True), 2),
    (lambda: MLP(12), 1),
    (lambda: PositionEmbedding(6, "learned"), 1),
])
def test_config_round_trip_rebuilds_the_same_layer(make, args):
    layer = make()
    x = np.random.default_rng(8).standard_normal((1, 6, 8)).astype(np.float32)
    call = (lambda l: l(x, context=x)) if args == 2 else (lambda l: l(x))
    y = call(layer).numpy()
    config = keras.layers.serialize(layer)
    clone = keras.layers.deserialize(config)
    call(clone)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(call(clone).numpy(), y, atol=1e-6)
    assert config["config"] == keras.layers.serialize(clone)["config"]
