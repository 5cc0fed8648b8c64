"""Transformer family: GPT char LM, sentiment, dates seq2seq, ViT/Mixer on USPS, edge, O(N^2).

Every figure is measured in this run, references included:
  * GPT on Tiny Shakespeare at nanoGPT's small CPU config (4 layers, 4 heads, 128 dims,
    context 64, batch 12, 2000 iterations, lr 1e-3 with 100 warmup steps and cosine decay
    to 1e-4, AdamW betas (0.9, 0.99), weight decay 0.1, grad clip 1.0, dropout 0, 90/10
    split); validation loss over every non-overlapping 64-char window of the last 10%.
  * sentiment (UCI sentences, fixed 2100/300/600 split): transformer encoder beside
    TF-IDF + logistic regression and the recurrent family's LSTM classifier.
  * dates -> ISO: transformer seq2seq beside the LSTM + additive attention model, exact
    match on the held-out formats, greedy and beam search.
  * ViT and MLP-Mixer on USPS, float32 and int8 test accuracy through the edge kit.
  * GPT's fixed-context next-token TFLite model generating through the edge kit vs Keras.
  * attention time and score-matrix memory against sequence length (64..1024 tokens).
  * gpt_vs_torch: GPT training tokens/s beside the nanoGPT reference on the same windows,
    interleaved in quiet rounds (benchmarks/_vs_torch.py); the 2,000-step runs above
    give the losses.
  * seq2seq_vs_torch: the dates transformer's training examples/s beside a PyTorch
    reference of the same shapes (nn.TransformerEncoderLayer/DecoderLayer), on the same
    batches (benchmarks/_vs_torch.py); throughput only, no training to convergence.

``TFMODELS_BENCH_ONLY=gpt,usps`` runs only those sections (gpt, sentiment, seq2seq, usps,
attention, gpt_vs_torch, seq2seq_vs_torch; ``vs_torch`` names the last two) and keeps the other sections'
figures from the existing results file;
``sections`` records when each section was last measured.
"""
import tempfile
import time
from pathlib import Path

import numpy as np

import benchmarks
import tfmodels
from benchmarks import _vs_torch
import tensorflow as tf  # after tfmodels, which selects tf_keras behind tf.keras
from tfmodels import convert, keras, train
from tfmodels.data import load_splits
from tfmodels.data import text
from tfmodels.registry import get_spec

GPT = dict(n_layer=4, n_head=4, n_embd=128, block_size=64, dropout=0.0)
GPT_TRAIN = dict(iters=2000, batch_size=12, learning_rate=1e-3, min_lr=1e-4, warmup=100,
                 weight_decay=0.1, beta_2=0.99, grad_clip=1.0, jit_compile=True)
SENTIMENT = dict(epochs=30, batch_size=32, learning_rate=5e-4,
                 model=dict(num_layers=1, num_heads=4, dim=64, mlp_dim=128, dropout=0.3, pooling="mean"))
# 20 epochs (10 until 2026-12-01, when the rnn benchmark's LSTM used all 10 of its epochs);
# on text.dates_splits(), the task of the rnn benchmark (12000 train / 1000 test pairs
# until 2026-12-02: 0.919 held-out); the LSTM + attention beside it is that benchmark's
# own (until 2026-12-02 a second config here: lr 2e-3 cosine, no early stopping)
SEQ2SEQ = dict(epochs=20, batch_size=64, learning_rate=1e-3, beam_width=4, jit_compile=False,
               model=dict(num_layers=2, num_heads=4, dim=128, mlp_dim=256, dropout=0.1))
# ViT and Mixer train with their registered setups (tfmodels.models.vision_transformer)
USPS = dict(augment="digits")
ATTENTION_LENGTHS = (64, 128, 256, 512, 1024)


# -- GPT char LM ---------------------------------------------------------------------


class WarmupCosine(keras.optimizers.schedules.LearningRateSchedule):
    """nanoGPT's get_lr: linear warmup, cosine decay to min_lr, then min_lr."""

    def __init__(self, lr, min_lr, warmup, decay_steps):
        self.lr, self.min_lr, self.warmup, self.decay_steps = lr, min_lr, warmup, decay_steps

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        warm = self.lr * (step + 1) / self.warmup
        ratio = tf.clip_by_value((step - self.warmup) / (self.decay_steps - self.warmup), 0.0, 1.0)
        cosine = self.min_lr + 0.5 * (1.0 + tf.cos(np.pi * ratio)) * (self.lr - self.min_lr)
        return tf.where(step < self.warmup, warm, cosine)

    def get_config(self):
        return {"lr": self.lr, "min_lr": self.min_lr, "warmup": self.warmup, "decay_steps": self.decay_steps}


def lm_loss(model, x, y, batch_size=256):
    """Mean next-token cross-entropy (nats) over all positions of all windows."""
    fn = tf.function(lambda a, b: tf.reduce_sum(keras.losses.sparse_categorical_crossentropy(
        b, model(a, training=False), from_logits=True)))
    total = sum(float(fn(x[i:i + batch_size], y[i:i + batch_size])) for i in range(0, len(x), batch_size))
    return total / y.size


def gpt_optimizer(cfg=GPT_TRAIN):
    """nanoGPT's AdamW: warmup-cosine rate, decay on 2-D weights only, global norm clipping."""
    opt = keras.optimizers.AdamW(
        WarmupCosine(cfg["learning_rate"], cfg["min_lr"], cfg["warmup"], cfg["iters"]),
        weight_decay=cfg["weight_decay"], beta_2=cfg["beta_2"], global_clipnorm=cfg["grad_clip"])
    opt.exclude_from_weight_decay(var_names=["gamma", "beta", "bias"])
    return opt


def train_gpt(data_dir, cfg=GPT_TRAIN, seed=0):
    train_ids, val_ids, vocab = text.char_corpus(data_dir)
    keras.utils.set_random_seed(seed)
    model = tfmodels.build("gpt", vocab_size=vocab.size, **GPT)
    opt = gpt_optimizer(cfg)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    @tf.function(jit_compile=cfg["jit_compile"])  # XLA: 84 against 114 ms per step (2 cores, 2026-12-03)
    def step(x, y):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        opt.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        return loss

    rng, block, bs = np.random.default_rng(seed), GPT["block_size"], cfg["batch_size"]
    losses, times = [], []
    for _ in range(cfg["iters"]):  # nanoGPT's get_batch: random windows of the train text
        start = time.perf_counter()
        s = rng.integers(0, len(train_ids) - block - 1, bs)
        w = train_ids[s[:, None] + np.arange(block + 1)]
        losses.append(float(step(w[:, :-1], w[:, 1:])))
        times.append(time.perf_counter() - start)
    vx, vy = text.char_windows(val_ids, block)
    return model, vocab, {
        "gpt_val_loss": lm_loss(model, vx, vy),
        "gpt_train_loss_last100": float(np.mean(losses[-100:])),
        "gpt_train_seconds": sum(times),
        "gpt_run_first_step_seconds": times[0],  # tracing and XLA compilation
        # this run's own throughput (steps 2..N); the fair ratio is gpt_vs_torch's
        "gpt_run_tokens_per_s": (cfg["iters"] - 1) * bs * block / sum(times[1:]),
        "gpt_params": int(model.count_params()),
        "gpt_val_windows": int(len(vx)),
    }


def torch_gpt(data_dir, cfg=GPT_TRAIN, n=200) -> dict:
    """The same GPT, setup and batches in PyTorch (benchmarks/_gpt_torch.py, nanoGPT's
    layout), in its own virtualenv; ``{"torch_unavailable": why}`` where torch cannot be
    installed."""
    from benchmarks._torch_env import TorchUnavailable, python, run_json

    try:
        exe = python()
    except TorchUnavailable as e:
        return {"torch_unavailable": str(e)}
    train_ids, val_ids, vocab = text.char_corpus(data_dir)
    vx, vy = text.char_windows(val_ids, GPT["block_size"])
    r = run_json(Path(__file__).parent / "_gpt_torch.py",
                 dict(train_ids=train_ids, val_x=vx, val_y=vy, prompt=vocab.encode("ROMEO:\n")),
                 {**GPT, **cfg, "vocab_size": vocab.size, "generate_tokens": n}, exe=exe)
    return {"torch_gpt_run_tokens_per_s": r["train_tokens_per_s"], "torch_gpt_val_loss": r["val_loss"],
            "torch_gpt_generate_tokens_per_s": r["generate_tokens_per_s"], "torch_gpt": r}


GPT_WHY = (
    "Both sides run the same matmuls; torch's attention is one fused scaled_dot_product_attention "
    "kernel, tfmodels' is written out of matmul, masking and softmax (so it converts to builtin TFLite ops).")


def _gpt_model(vocab, jit):
    keras.utils.set_random_seed(0)
    model = tfmodels.build("gpt", vocab_size=vocab.size, **GPT)
    model.compile(optimizer=gpt_optimizer(), jit_compile=jit,
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def gpt_vs_torch(data_dir, plan=None, phase_steps=5, pool_batches=32) -> dict:
    """Training tokens/s of the GPT beside its nanoGPT reference (benchmarks/_gpt_torch.py)
    on the same windows of the training text, interleaved as benchmarks/_vs_torch.py
    describes; both with nanoGPT's AdamW, schedule and clipping, as the 2,000-step run."""
    train_ids, _, vocab = text.char_corpus(data_dir)
    block, bs = GPT["block_size"], GPT_TRAIN["batch_size"]
    starts = np.random.default_rng(0).integers(0, len(train_ids) - block - 1, pool_batches * bs)
    windows = train_ids[starts[:, None] + np.arange(block + 1)]
    pool = _vs_torch.batch_pool({"x": windows[:, :-1], "y": windows[:, 1:]}, bs, pool_batches)
    jit = GPT_TRAIN["jit_compile"]
    models = {f"jit_compile={jit} (trained so)": _gpt_model(vocab, jit),
              f"jit_compile={not jit}": _gpt_model(vocab, not jit)}
    r = _vs_torch.compare(models, pool, {"kind": "gpt", "vocab_size": vocab.size, **GPT, **GPT_TRAIN},
                          inputs=("x",), target="y", per_step=bs * block, unit="tokens",
                          plan=plan or _vs_torch.PLAN, phase_steps=phase_steps)
    if r.get("ratio", 1.0) < 1.0:
        r["explanation"] = _vs_torch.explain(r, GPT_WHY)
    return _vs_torch.figures("gpt", "tokens", r)


def gpt_generation(model, vocab, n=200):
    prompt = vocab.encode("ROMEO:\n")
    out = {}
    for use_cache in (True, False):
        # a first run traces and compiles every window length the timed run meets (XLA
        # compiles once per shape: ~1 s each, which a 200-token run would otherwise pay)
        model.generate(prompt, n, top_k=10, use_cache=use_cache)
        start = time.perf_counter()
        ids = model.generate(prompt, n, temperature=1.0, top_k=10, seed=0, use_cache=use_cache)
        out[f"gpt_generate_tokens_per_s_{'kv_cache' if use_cache else 'no_cache'}"] = n / (time.perf_counter() - start)
    out["gpt_sample"] = vocab.decode(ids[0])
    return out


def gpt_edge(model, vocab, workdir, n=120):
    """Greedy generation through the edge kit's LiteRT runner vs Keras, step by step."""
    from tfmodels_edge import EdgeModel
    from tfmodels.models.transformer import edge_generate, next_token_model, window_start

    nt = next_token_model(model)
    path = Path(workdir) / "gpt_next_token_float32.tflite"
    flat = convert.to_tflite(nt, "float32")
    path.write_bytes(flat)
    edge = EdgeModel(path)
    prompt = vocab.encode("ROMEO:\n")
    keras_ids = model.generate(prompt, n, temperature=0)
    edge_ids, edge_logits = edge_generate(edge, prompt, n, model.config.block_size, temperature=0,
                                          return_logits=True)
    diffs, block, start = [], model.config.block_size, 0
    for t, logits in enumerate(edge_logits):  # Keras logits for the same (sliding) windows
        start = window_start(start, len(prompt) + t, block, block // 2)
        ctx = edge_ids[start: len(prompt) + t]
        ref = model(ctx[None], training=False)[0, -1].numpy()
        diffs.append(float(np.max(np.abs(ref - logits))))
    ops = convert.tflite_ops(flat)
    return {
        "gpt_edge_max_abs_diff": max(diffs),
        "gpt_edge_generation_matches_keras": bool(np.array_equal(keras_ids[0], edge_ids)),
        "gpt_edge_tokens_compared": n,
        "gpt_edge_bytes": len(flat),
        "gpt_edge_p50_ms": edge.benchmark(runs=50)["p50_ms"],
        "gpt_edge_sample": vocab.decode(edge_ids),
    }, {"gpt_next_token": not any(o.startswith("CUSTOM:") for o in ops)}


# -- sentiment -----------------------------------------------------------------------


def sentiment(data_dir, workdir):
    """The encoder beside the recurrent benchmark's TF-IDF + LR baseline and BiLSTM,
    rerun here on the same split so the figures come from one run. Like the BiLSTM,
    the encoder's accuracy is the mean over ``rnn.SENTIMENT_SEEDS`` seeds; the first
    seed's model is exported."""
    from benchmarks import rnn

    recurrent = rnn.sentiment(data_dir)
    splits = load_splits("sentiment", data_dir)
    vocab = text.sentiment_vocab(data_dir)
    runs = [train.fit("transformer_encoder", splits, epochs=SENTIMENT["epochs"], batch_size=SENTIMENT["batch_size"],
                      learning_rate=SENTIMENT["learning_rate"], verbose=0, seed=seed,
                      model_kwargs={"vocab_size": vocab.size, **SENTIMENT["model"]},
                      callbacks=[keras.callbacks.EarlyStopping("val_accuracy", patience=8, restore_best_weights=True)])
            for seed in range(rnn.SENTIMENT_SEEDS)]
    accs = [r.metrics["test_accuracy"] for r in runs]
    epochs = [r.metrics["epochs_run_this_process"] for r in runs]
    report = convert.export(runs[0].model, Path(workdir) / "encoder", modes=("float32", "dynamic", "int8"),
                            representative=splits.train[0], eval_data=splits.test, latency_runs=30)
    res = {"tfidf_lr_accuracy": recurrent["tfidf_lr_accuracy"],
           "lstm_sentiment_accuracy": recurrent["sentiment_accuracy"],
           "lstm_sentiment_accuracy_per_seed": recurrent["sentiment_accuracy_per_seed"],
           "lstm_sentiment_config": recurrent["sentiment_config"],
           "encoder_sentiment_accuracy": float(np.mean(accs)), "encoder_sentiment_accuracy_std": float(np.std(accs)),
           "encoder_sentiment_accuracy_per_seed": accs, "encoder_sentiment_epochs_run": epochs,
           "encoder_tflite": _modes_summary(report)}
    return res, {f"transformer_encoder_{m}": e["builtin_only"] for m, e in report["modes"].items()}


def _modes_summary(report):
    keys = ("bytes", "builtin_only", "accuracy", "keras_accuracy", "max_abs_diff", "top1_agreement",
            "p50_ms_1t", "p50_ms_2t", "parity_ok")
    return {m: {k: e.get(k) for k in keys} for m, e in report["modes"].items()}


# -- dates seq2seq -------------------------------------------------------------------


def _exact(vocab, ids, targets):
    return float(np.mean([vocab.decode(row) == t for row, t in zip(ids, targets)]))


def seq2seq(data_dir):
    """The transformer beside the recurrent benchmark's LSTM + attention, both on
    ``text.dates_splits()``; the LSTM figures come from ``benchmarks.rnn.seq2seq``."""
    from benchmarks import rnn

    vocab = text.dates_vocab()
    splits, pairs = text.dates_splits()
    src, test_targets = splits.test[0][0], pairs["test"][1]
    t0 = time.perf_counter()
    tr = train.fit(lambda: tfmodels.build("transformer_seq2seq", vocab_size=vocab.size, **SEQ2SEQ["model"]),
                   splits, epochs=SEQ2SEQ["epochs"], batch_size=SEQ2SEQ["batch_size"],
                   learning_rate=SEQ2SEQ["learning_rate"], schedule="cosine", jit_compile=SEQ2SEQ["jit_compile"],
                   loss=keras.losses.SparseCategoricalCrossentropy(), metrics=["accuracy"], verbose=0)
    t1 = time.perf_counter()
    per_format = {}
    for f in text.HELDOUT_FORMATS:
        s, t = text.dates_task(300, seed=4, formats=(f,))
        per_format[f] = _exact(vocab, tr.model.greedy(text.encode_seq2seq(s, t, vocab)["source"]), t)
    lstm = rnn.seq2seq()
    return {"seq2seq_train_seconds": t1 - t0,
            "seq2seq_exact_match": _exact(vocab, tr.model.greedy(src), test_targets),
            "seq2seq_beam_exact_match": _exact(vocab, tr.model.beam_search(src, SEQ2SEQ["beam_width"]), test_targets),
            "seq2seq_heldout_per_format": per_format,
            "lstm_seq2seq_exact_match": lstm["seq2seq_exact_match"],
            "lstm_seq2seq_beam_exact_match": lstm["seq2seq_exact_match_beam3"],
            "lstm_seq2seq_train_seconds": lstm["seq2seq_config"]["train_seconds"],
            "lstm_seq2seq_config": lstm["seq2seq_config"]}


def _seq2seq_model(vocab, steps_per_epoch, jit_compile):
    """The dates transformer compiled as :func:`seq2seq`'s ``train.fit`` compiles it (Adam,
    cosine decay over all epochs, cross-entropy on the softmax output, accuracy)."""
    model = tfmodels.build("transformer_seq2seq", vocab_size=vocab.size, **SEQ2SEQ["model"])
    rate = keras.optimizers.schedules.CosineDecay(SEQ2SEQ["learning_rate"], SEQ2SEQ["epochs"] * steps_per_epoch)
    model.compile(keras.optimizers.Adam(rate), keras.losses.SparseCategoricalCrossentropy(), metrics=["accuracy"],
                  jit_compile=jit_compile)
    return model


SEQ2SEQ_WHY = (
    "Each step is small (64 dates, 56 source and 11 target tokens, 128 wide): per-op cost, not matmul FLOPs, "
    "decides it. tfmodels' attention is written out of matmul, softmax and masking ops (so it converts to "
    "builtin TFLite ops), where PyTorch's layers call the fused scaled_dot_product_attention kernel.")


def seq2seq_vs_torch(plan=None, phase_steps=5, pool_batches=32) -> dict:
    """Training examples/s of the dates transformer beside torch's nn.Transformer layers
    of the same widths, heads and layers (benchmarks/_seq_torch.py), same batches, Adam
    with the same cosine schedule; interleaved as benchmarks/_vs_torch.py describes."""
    from tfmodels.layers.positional import sinusoids

    vocab = text.dates_vocab()
    splits, _ = text.dates_splits()
    (src, dec_in), dec_out = splits.train
    bs, cfg = SEQ2SEQ["batch_size"], SEQ2SEQ["model"]
    pool = _vs_torch.batch_pool({"source": src, "decoder_in": dec_in, "decoder_out": dec_out}, bs, pool_batches)
    steps = splits.steps("train", bs)
    keras.utils.set_random_seed(0)
    jit = SEQ2SEQ["jit_compile"]
    models = {f"jit_compile={jit} (trained so)": _seq2seq_model(vocab, steps, jit),
              f"jit_compile={not jit}": _seq2seq_model(vocab, steps, not jit)}
    r = _vs_torch.compare(
        models, pool, {"kind": "seq2seq_transformer", "vocab_size": vocab.size, **cfg, "accuracy": True,
                       "learning_rate": SEQ2SEQ["learning_rate"], "cosine_decay_steps": SEQ2SEQ["epochs"] * steps},
        inputs=("source", "decoder_in"), target="decoder_out", per_step=bs, unit="examples",
        plan=plan or _vs_torch.PLAN, phase_steps=phase_steps,
        torch_arrays={"source_positions": sinusoids(src.shape[1], cfg["dim"]),
                      "target_positions": sinusoids(dec_in.shape[1], cfg["dim"])})
    if r.get("ratio", 1.0) < 1.0:
        r["explanation"] = _vs_torch.explain(r, SEQ2SEQ_WHY)
    r["config"] = {**cfg, "batch_size": bs, "learning_rate": SEQ2SEQ["learning_rate"], "jit_compile": jit,
                   "source_len": int(src.shape[1]), "target_len": int(dec_in.shape[1]),
                   "optimizer": "Adam (epsilon 1e-7 on both sides), cosine decay over 20 epochs; "
                                "accuracy on both sides"}
    return _vs_torch.figures("seq2seq", "examples", r)


# -- USPS: ViT and MLP-Mixer ---------------------------------------------------------


def usps(data_dir, workdir):
    splits = load_splits("usps", data_dir)
    res, builtin = {}, {}
    for name, key in (("vit", "vit"), ("mlp_mixer", "mixer")):
        r = train.fit(name, splits, verbose=0, model_kwargs={"augment": USPS["augment"]})
        report = convert.export(r.model, Path(workdir) / name, modes=("float32", "int8"),
                                representative=splits.train[0], eval_data=splits.test,
                                parity_samples=len(splits.test[1]), latency_runs=50)
        res[f"{key}_usps_accuracy"] = r.metrics["test_accuracy"]
        res[f"{key}_usps_int8_accuracy"] = report["modes"]["int8"]["accuracy"]
        res[f"{key}_usps_train_seconds"] = r.metrics["wall_seconds"]
        res[f"{key}_params"] = r.metrics["params"]
        res[f"{key}_tflite"] = _modes_summary(report)
        builtin |= {f"{name}_{m}": e["builtin_only"] for m, e in report["modes"].items()}
    return res, builtin


# -- attention cost ------------------------------------------------------------------


def attention_cost(heads=4, key_dim=32, runs=20):
    """Forward time of one multi-head attention layer (batch 1) and the size of its
    score matrix, heads x N x N float32: the O(N^2) term."""
    from tfmodels.layers import MultiHeadAttention

    rows = []
    for n in ATTENTION_LENGTHS:
        layer = MultiHeadAttention(heads, key_dim)
        x = tf.random.normal([1, n, heads * key_dim])
        fn = tf.function(lambda a: layer(a, causal=True))
        fn(x)
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            fn(x).numpy()
            times.append(time.perf_counter() - start)
        rows.append({"tokens": n, "p50_ms": float(np.median(times) * 1e3),
                     "score_matrix_bytes": heads * n * n * 4})
    for a, b in zip(rows, rows[1:]):
        b["time_ratio_vs_half"] = b["p50_ms"] / a["p50_ms"]
    return rows


SECTIONS = ("gpt", "gpt_vs_torch", "sentiment", "seq2seq", "usps", "attention", "seq2seq_vs_torch")


def run(data_dir) -> dict:
    only = benchmarks.only(SECTIONS)
    want = lambda part: not only or part in only  # noqa: E731
    previous = benchmarks.previous("transformer") if only else {}
    previous.pop("_meta", None)
    usps_setups = {n: get_spec(n).training for n in ("vit", "mlp_mixer")}
    results, builtin = {"config": {"gpt": {**GPT, **GPT_TRAIN}, "sentiment": SENTIMENT,
                                   "seq2seq": SEQ2SEQ, "usps": USPS | usps_setups}}, {}

    def gpt(workdir):
        model, vocab, r = train_gpt(data_dir)
        r |= gpt_generation(model, vocab) | torch_gpt(data_dir)
        r["gpt_kv_cache_speedup"] = r["gpt_generate_tokens_per_s_kv_cache"] / r["gpt_generate_tokens_per_s_no_cache"]
        edge, b = gpt_edge(model, vocab, workdir)
        return r | edge, b

    parts = {"gpt": gpt, "sentiment": lambda workdir: sentiment(data_dir, workdir),
             "seq2seq": lambda workdir: (seq2seq(data_dir), {}), "usps": lambda workdir: usps(data_dir, workdir),
             "attention": lambda workdir: ({"attention_cost": attention_cost()}, {}),
             "gpt_vs_torch": lambda workdir: (gpt_vs_torch(data_dir), {}),
             "seq2seq_vs_torch": lambda workdir: (seq2seq_vs_torch(), {})}
    rerun, seconds = [p for p in SECTIONS if want(p)], {}
    with tempfile.TemporaryDirectory() as workdir:
        for part in rerun:
            with benchmarks.timed(seconds, part):
                r, b = parts[part](workdir)
            results |= r
            builtin |= b
    results["sections"] = benchmarks.sections(previous, rerun, seconds=seconds)
    results["builtin_only"] = {**previous.get("builtin_only", {}), **builtin}
    return {**previous, **results}
