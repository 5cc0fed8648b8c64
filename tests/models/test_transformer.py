"""Transformer family builders: sizes, a training step, save/reload, causality, decoding
(KV cache, sampling, beam search), builtin-only TFLite and on-device generation."""
import numpy as np
import pytest

import tfmodels
from tfmodels import convert
from tfmodels._keras import keras, tf
from tfmodels.models.transformer import edge_generate, next_token_model, sample

RNG = np.random.default_rng(0)
SMALL_GPT = dict(vocab_size=13, block_size=8, n_layer=2, n_head=2, n_embd=16)
SMALL_S2S = dict(vocab_size=12, source_len=7, target_len=5, num_layers=1, num_heads=2, dim=16, mlp_dim=32)


@pytest.mark.parametrize("name, params", [
    ("gpt", 805_248), ("transformer_encoder", 389_890), ("transformer_seq2seq", 680_365),
    ("vit", 136_906), ("mlp_mixer", 77_706)])
def test_default_sizes_match_the_docstrings(name, params):
    model = tfmodels.build(name)
    assert model.count_params() == params
    assert f"{params:,} parameters" in tfmodels.registry.get_spec(name).builder.__doc__


def _small(name):
    """(model, x, y, loss) for one tiny instance of each builder."""
    if name == "gpt":
        x = RNG.integers(1, 13, (4, 8)).astype(np.int32)
        return (tfmodels.build("gpt", **SMALL_GPT), x, np.roll(x, -1, 1),
                keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    if name == "transformer_seq2seq":
        src = RNG.integers(3, 12, (4, 7)).astype(np.int32)
        dec = RNG.integers(3, 12, (4, 5)).astype(np.int32)
        return tfmodels.build(name, **SMALL_S2S, dropout=0.0), [src, dec], np.roll(dec, -1, 1), "sparse_categorical_crossentropy"
    if name == "transformer_encoder":
        x = RNG.integers(1, 30, (8, 10)).astype(np.int32)
        x[:, 7:] = 0  # padding
        model = tfmodels.build(name, input_shape=(10,), vocab_size=30, dim=16, mlp_dim=32, num_heads=2,
                               num_layers=1, dropout=0.0)
        return model, x, RNG.integers(0, 2, 8), "sparse_categorical_crossentropy"
    x = RNG.random((8, 16, 16, 1)).astype(np.float32)
    model = tfmodels.build(name, dim=16, depth=1, dropout=0.0,
                           **({"num_heads": 2, "mlp_dim": 32} if name == "vit" else {}))
    return model, x, RNG.integers(0, 10, 8), "sparse_categorical_crossentropy"


NAMES = ["gpt", "transformer_encoder", "transformer_seq2seq", "vit", "mlp_mixer"]
EDGE = {"transformer_encoder", "vit", "mlp_mixer"}  # gpt's edge form: test_gpt_generates_on_the_edge_kit


@pytest.mark.parametrize("name", NAMES)
def test_trains_saves_reloads_and_converts_builtin_only(name, tmp_path):
    from tfmodels_edge import EdgeModel

    model, x, y, loss = _small(name)
    model.compile(keras.optimizers.Adam(1e-2), loss)
    losses = [float(model.train_on_batch(x, y)) for _ in range(3)]
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0]
    ref = np.asarray(model(x, training=False))
    model.save(tmp_path / "m", save_format="tf")
    reloaded = keras.models.load_model(tmp_path / "m", compile=False)
    np.testing.assert_allclose(np.asarray(reloaded(x, training=False)), ref, atol=1e-5)
    if name not in EDGE:
        return
    for mode in ("float32", "int8"):
        flat = convert.to_tflite(model, mode, representative=x)
        ops = convert.tflite_ops(flat)
        assert not any(o.startswith("CUSTOM") for o in ops), (mode, ops)
        (tmp_path / f"{mode}.tflite").write_bytes(flat)
        out = EdgeModel(tmp_path / f"{mode}.tflite").predict(x)
        tol = 1e-4 if mode == "float32" else 0.15  # probabilities; int8 within a few steps
        assert np.abs(out - ref).max() < tol, (mode, np.abs(out - ref).max())
    assert ("BATCH_MATMUL" in ops) == (name != "mlp_mixer")  # attention, except in the Mixer


def test_gpt_past_logits_never_depend_on_future_tokens():
    gpt = tfmodels.build("gpt", **SMALL_GPT)
    x = RNG.integers(1, 13, (1, 8)).astype(np.int32)
    base = gpt(x).numpy()
    for t in range(1, 8):
        x2 = x.copy()
        x2[0, t:] = (x2[0, t:] + 5) % 13
        changed = gpt(x2).numpy()
        np.testing.assert_allclose(changed[0, :t], base[0, :t], atol=1e-5)
        assert np.abs(changed[0, t:] - base[0, t:]).max() > 1e-4
    with pytest.raises(ValueError, match="context is 8"):
        gpt(np.zeros((1, 9), np.int32))


def test_gpt_kv_cache_generation_equals_full_recompute_past_the_context():
    from tfmodels.models.transformer import window_start

    gpt = tfmodels.build("gpt", **SMALL_GPT)
    prompt = [3, 1, 4]
    for slide in (1, None):  # nanoGPT's crop to the last 8 tokens; the default, half a window
        cached = gpt.generate(prompt, 12, temperature=0, slide=slide)  # 15 tokens > block_size 8
        full = gpt.generate(prompt, 12, temperature=0, use_cache=False, slide=slide)
        assert cached.shape == (1, 15) and np.array_equal(cached, full)
        assert np.array_equal(cached[0, :3], prompt)
        # by hand: each greedy token is the argmax of the full forward pass on its window
        start = 0
        for t in range(3, 15):
            start = window_start(start, t, 8, slide or 4)
            assert t - start <= 8 and (slide != 1 or start == max(0, t - 8))
            assert cached[0, t] == gpt(cached[:, start:t]).numpy()[0, -1].argmax()
    sampled = gpt.generate(np.array([prompt, prompt]), 6, temperature=1.0, top_k=1)
    assert np.array_equal(sampled[0], cached[0, :9]) and np.array_equal(sampled[1], cached[0, :9])
    with pytest.raises(ValueError, match="at least one token"):
        gpt.generate([], 3)
    with pytest.raises(ValueError, match="slide must be in 1..block_size=8"):
        gpt.generate(prompt, 3, slide=9)


def test_sample_respects_temperature_and_top_k():
    logits = np.array([[0.0, 1.0, 3.0, 2.0]] * 500)
    rng = np.random.default_rng(0)
    assert set(sample(logits, 1.0, top_k=2, rng=rng)) == {2, 3}
    assert np.all(sample(logits, 0) == 2)
    cold = np.mean(sample(logits, 0.1, rng=rng) == 2)
    warm = np.mean(sample(logits, 5.0, rng=rng) == 2)
    assert cold > 0.99 and warm < 0.6


def test_gpt_generates_on_the_edge_kit_like_keras(tmp_path):
    from tfmodels_edge import EdgeModel

    gpt = tfmodels.build("gpt", **SMALL_GPT)
    gpt.generate([3, 1, 4], 2)  # its compiled decoders must not make it unsaveable
    tf.saved_model.save(gpt, str(tmp_path / "saved"))
    flat = convert.to_tflite(next_token_model(gpt), "float32")
    ops = convert.tflite_ops(flat)
    assert not any(o.startswith("CUSTOM") for o in ops) and "BATCH_MATMUL" in ops
    (tmp_path / "gpt.tflite").write_bytes(flat)
    edge = EdgeModel(tmp_path / "gpt.tflite")
    assert sorted(edge.input_names) == ["position", "tokens"]
    ids, logits = edge_generate(edge, [3, 1, 4], 10, block_size=8, temperature=0, return_logits=True)
    assert np.array_equal(ids, gpt.generate([3, 1, 4], 10, temperature=0)[0])
    ref = gpt(ids[None, 4:12]).numpy()[0, -1]  # the last step saw the window ids[4:12]
    np.testing.assert_allclose(logits[-1], ref, atol=1e-4)


def _sequence_logprob(model, src, out):
    """Sum of log p(target) by teacher forcing (``out`` without the start token)."""
    dec_in = np.concatenate([np.ones((len(out), 1), np.int32), out[:, :-1]], 1)
    probs = model([src, dec_in]).numpy()
    p = np.take_along_axis(probs, out[..., None], -1)[..., 0]
    live = np.cumsum(out == 2, 1) - (out == 2) == 0  # up to and including the end token
    return np.where(live, np.log(p), 0.0).sum(1)


def test_seq2seq_beam_search_finds_likelier_targets_than_greedy():
    model = tfmodels.build("transformer_seq2seq", **SMALL_S2S, dropout=0.0)
    src = RNG.integers(3, 12, (6, 7)).astype(np.int32)
    greedy = model.greedy(src)
    assert greedy.shape == (6, 5) and np.array_equal(greedy, model.beam_search(src, beam_width=1))

    def with_end(ids):  # restore the end token the decoder emitted (decoding strips it)
        full = np.concatenate([ids, np.zeros((len(ids), 1), np.int32)], 1)
        first_pad = (full == 0).argmax(1)
        full[np.arange(len(full)), first_pad] = 2
        return full[:, :5]

    beam = model.beam_search(src, beam_width=4)
    lp_greedy, lp_beam = _sequence_logprob(model, src, with_end(greedy)), _sequence_logprob(model, src, with_end(beam))
    assert np.all(lp_beam >= lp_greedy - 1e-4)


def test_seq2seq_decoder_is_causal_and_encoder_ignores_padding():
    model = tfmodels.build("transformer_seq2seq", **SMALL_S2S)
    src = RNG.integers(3, 12, (1, 7)).astype(np.int32)
    src[:, 5:] = 0
    dec = RNG.integers(3, 12, (1, 5)).astype(np.int32)
    base = model([src, dec]).numpy()
    dec2 = dec.copy()
    dec2[0, 3:] = 4
    np.testing.assert_allclose(model([src, dec2]).numpy()[0, :3], base[0, :3], atol=1e-5)
    emb = model.src_embed
    w = emb.get_weights()[0]
    w[0] += 10.0  # the padding id's vector: masked, so it must not matter
    emb.set_weights([w])
    np.testing.assert_allclose(model([src, dec]).numpy(), base, atol=1e-5)


def test_encoder_ignores_padding_and_pools_as_asked():
    model = tfmodels.build("transformer_encoder", input_shape=(10,), vocab_size=30, dim=16, mlp_dim=32,
                           num_heads=2, include_top=False, pooling="mean", dropout=0.0)
    x = RNG.integers(1, 30, (2, 10)).astype(np.int32)
    x[:, 6:] = 0
    y = model(x).numpy()
    assert y.shape == (2, 16)
    emb = model.get_layer("embedding")
    w = emb.get_weights()[0]
    w[0] = 50.0
    emb.set_weights([w])
    np.testing.assert_allclose(model(x).numpy(), y, atol=1e-4)
    seq = tfmodels.build("transformer_encoder", input_shape=(10,), vocab_size=30, dim=16, mlp_dim=32,
                         num_heads=2, include_top=False, pooling=None)
    assert seq.output_shape == (None, 10, 16)
    with pytest.raises(ValueError, match="pooling"):
        tfmodels.build("transformer_encoder", pooling="max")


def test_vit_and_mixer_shapes_and_pooling_errors():
    vit = tfmodels.build("vit", include_top=False, pooling=None, dim=16, depth=1, num_heads=2, mlp_dim=32)
    assert vit.output_shape == (None, 16, 16)  # 16 patches, no class token without pooling
    mixer = tfmodels.build("mlp_mixer", input_shape=(28, 28, 1), patch_size=7, dim=8, depth=1, num_classes=3)
    assert mixer.output_shape == (None, 3)
    with pytest.raises(ValueError, match="divisible"):
        tfmodels.build("vit", input_shape=(15, 15, 1))
    with pytest.raises(ValueError, match="pooling"):
        tfmodels.build("mlp_mixer", include_top=True, pooling=None)


@pytest.mark.parametrize("name", ["vit", "mlp_mixer"])
def test_vit_and_mixer_augment_only_in_training(name):
    small = {"dim": 8, "depth": 1, "dropout": 0.0, **({"num_heads": 2, "mlp_dim": 16} if name == "vit" else {})}
    plain, aug = tfmodels.build(name, **small), tfmodels.build(name, **small, augment="digits")
    assert {"aug_shift", "aug_rotation"} <= {l.name for l in aug.layers}
    assert aug.count_params() == plain.count_params()
    aug.set_weights(plain.get_weights())
    x = np.random.default_rng(0).random((4, 16, 16, 1), np.float32)
    np.testing.assert_allclose(aug(x, training=False).numpy(), plain(x, training=False).numpy(), atol=1e-6)
    assert np.abs(aug(x, training=True).numpy() - plain(x, training=True).numpy()).max() > 1e-4
