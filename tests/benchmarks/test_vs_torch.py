"""The PyTorch comparisons of the benchmarks (benchmarks/_torch_env.py, _vs_torch.py,
_seq_torch.py): the handoff to a reference script and the interleaved measurement,
both checked without torch (a stand-in script run by this interpreter), and, where the
torch virtualenv exists (``python -m benchmarks._torch_env`` makes it; it is not made
here), the references' parameter counts against the Keras models' at tiny sizes.
Seconds, tiny shapes."""
import json
import sys
import textwrap
from io import StringIO
from pathlib import Path

import numpy as np
import pytest

import benchmarks
import tfmodels
from benchmarks import _torch_env, _vs_torch
from tfmodels import keras
from tfmodels.layers.positional import sinusoids
from tfmodels.models import rnn

BENCH = Path(benchmarks.__file__).parent

# A stand-in reference: the script side of the handoff, no torch. It answers like
# _seq_torch.py (params, train, phases) and fails on request.
STAND_IN = textwrap.dedent(f"""
    import sys, time
    sys.path.insert(0, {str(BENCH)!r})
    from _torch_env import read_inputs, reply, serve

    data, config, serving = read_inputs()
    if config.get("fail"):
        print("stand-in failing on purpose", file=sys.stderr)
        sys.exit(3)
    cursor = []

    def train(steps):
        cursor.extend([len(cursor) + i for i in range(steps)])
        return {{"seconds": [config["step_seconds"]] * steps, "loss": 0.0}}

    def phases(steps):
        return {{"forward": [1.0] * steps, "forward_backward": [2.5] * steps, "step": [3.0] * steps}}

    handlers = {{"params": lambda: {{"params": int(sum(v.size for v in data.values())), "kind": config["kind"]}},
                "train": train, "phases": phases, "where": lambda: {{"cursor": len(cursor)}}}}
    serve(handlers) if serving else reply(handlers["params"]())
""")


@pytest.fixture
def stand_in(tmp_path, monkeypatch):
    script = tmp_path / "stand_in.py"
    script.write_text(STAND_IN)
    monkeypatch.setattr(_torch_env, "python", lambda *a, **k: Path(sys.executable))
    monkeypatch.setattr(_vs_torch, "SCRIPT", script)
    return script


def test_serve_answers_each_line_and_reports_errors():
    out = StringIO()
    handlers = {"add": lambda a, b: {"sum": a + b}, "boom": lambda: 1 / 0}
    requests = "\n".join(json.dumps(r) for r in ({"cmd": "add", "a": 2, "b": 3}, {"cmd": "nope"}, {"cmd": "boom"}))
    stdout, sys.stdout = sys.stdout, out
    try:
        _torch_env.serve(handlers, StringIO(requests + "\n\n"))
    finally:
        sys.stdout = stdout
    answers = [json.loads(line) for line in out.getvalue().splitlines()]
    assert answers[0] == {"sum": 5}
    assert "unknown command 'nope'" in answers[1]["error"] and "add" in answers[1]["error"]
    assert answers[2]["error"].startswith("ZeroDivisionError")


def test_run_json_and_worker_hand_arrays_and_config_over(stand_in):
    arrays = {"x": np.zeros((2, 3)), "y": np.ones(4)}
    assert _torch_env.run_json(stand_in, arrays, {"kind": "k"}) == {"params": 10, "kind": "k"}
    with pytest.raises(_torch_env.ReferenceFailed, match="failing on purpose"):
        _torch_env.run_json(stand_in, arrays, {"fail": True})
    with _torch_env.Worker(stand_in, arrays, {"kind": "k", "step_seconds": 0.5}) as worker:
        assert worker.ask("params")["params"] == 10
        assert worker.ask("train", steps=3)["seconds"] == [0.5] * 3
        assert worker.ask("where") == {"cursor": 3}
        with pytest.raises(_torch_env.ReferenceFailed, match="unknown command"):
            worker.ask("nope")
    assert worker.proc.poll() is not None  # stopped on exit
    with pytest.raises(_torch_env.ReferenceFailed, match="failing on purpose"):
        with _torch_env.Worker(stand_in, arrays, {"fail": True}) as worker:
            worker.ask("params")


def test_only_vs_torch_names_every_comparison_section(monkeypatch):
    valid = ("sentiment", "charlm", "charlm_vs_torch", "seq2seq_vs_torch")
    monkeypatch.setenv("TFMODELS_BENCH_ONLY", "vs_torch")
    assert benchmarks.only(valid) == {"charlm_vs_torch", "seq2seq_vs_torch"}
    monkeypatch.setenv("TFMODELS_BENCH_ONLY", "vs_torch,sentiment")
    assert benchmarks.only(valid) == {"charlm_vs_torch", "seq2seq_vs_torch", "sentiment"}
    monkeypatch.setenv("TFMODELS_BENCH_ONLY", "vs_torch")
    with pytest.raises(ValueError, match="unknown"):  # a benchmark without comparisons
        benchmarks.only(("sentiment", "charlm"))
    from benchmarks import rnn as rnn_bench, transformer

    assert {"charlm_vs_torch", "seq2seq_vs_torch"} <= set(rnn_bench.SECTIONS)
    assert "seq2seq_vs_torch" in transformer.SECTIONS


def test_batch_pool_is_seeded_and_shaped_by_batch():
    arrays = {"x": np.arange(100).reshape(50, 2), "y": np.arange(50)}
    pool = _vs_torch.batch_pool(arrays, batch_size=8, batches=4)
    assert pool["x"].shape == (4, 8, 2) and pool["y"].shape == (4, 8)
    np.testing.assert_array_equal(pool["x"][..., 0] // 2, pool["y"])  # rows stay paired
    assert len(set(pool["y"].ravel())) == 32  # without replacement
    np.testing.assert_array_equal(_vs_torch.batch_pool(arrays, 8, 4)["y"], pool["y"])
    assert _vs_torch.batch_pool(arrays, 8, 100)["y"].shape == (6, 8)  # no more than the data holds


def _tiny_lm(vocab=12):
    model = rnn.char_lm(num_classes=vocab, units=8, embedding_dim=4, cell="gru", input_shape=(6,))
    model.compile(keras.optimizers.Adam(1e-2), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def test_compare_interleaves_equal_steps_and_splits_phases_where_slower(stand_in):
    rng = np.random.default_rng(0)
    pool = {"x": rng.integers(0, 12, (3, 4, 6)).astype(np.int32), "y": rng.integers(0, 12, (3, 4, 6)).astype(np.int32)}
    plan = dict(rounds=2, block=3, warmup=2)
    seen = {}
    r = _vs_torch.compare({"a": _tiny_lm(), "b": _tiny_lm()}, pool, {"kind": "char_lm", "step_seconds": 1e-6},
                          inputs=("x",), target="y", per_step=24, unit="tokens", plan=plan, phase_steps=2,
                          then=lambda worker: seen.update(worker.ask("where")) or {"then": True},
                          tried={"c": _tiny_lm()}, tried_steps=2)
    n = r["rounds_run"]  # 2, or up to 4 where other processes kept the machine busy
    shares = r["foreign_cpu_share"]
    quiet = [i for i in range(n) if all((shares[w][i] or 0.0) <= _vs_torch.QUIET for w in ("a", "b", "torch"))]
    assert 2 <= n <= 4 and r["contended"] == (len(quiet) < 2)
    assert r["rounds_counted"] == (quiet if len(quiet) >= 2 else list(range(n)))
    assert seen["cursor"] == 2 + n * 3  # warm-up and rounds: as many steps as each TensorFlow side took
    assert {k: len(v) for k, v in r["block_seconds"].items()} == {"a": n, "b": n, "torch": n}
    assert r["ratio"] == pytest.approx(r["tf_per_s"] / r["torch_per_s"]) and r["ratio"] < 1.0
    assert r["torch_per_s"] == pytest.approx(3 * 24 / 3e-6)
    assert set(r["tf_variants"]) == {"a", "b"} and r["then"] is True
    assert r["tf_tried"]["c"]["steps"] == 2 and r["tf_tried"]["c"]["step_ms"] > 0
    assert set(r["phases_ms"]) == {"a", "b", "torch"}  # TensorFlow slower: the split is taken
    assert r["phases_ms"]["torch"] == pytest.approx({"forward_ms": 1.0, "backward_ms": 1.5, "optimizer_ms": 0.5,
                                                     "step_ms": 3.0})
    ours = r["phases_ms"]["a"]
    assert set(ours) == {"forward_ms", "backward_ms", "optimizer_ms", "step_ms"}
    assert ours["forward_ms"] > 0 and ours["step_ms"] > 0
    text = _vs_torch.explain(r, "Because.")
    assert text.startswith("TensorFlow's step took") and text.endswith("Because.")
    flat = _vs_torch.figures("charlm", "tokens", r)
    assert flat["charlm_vs_torch_train_ratio"] == r["ratio"]
    assert flat["torch_charlm_train_tokens_per_s"] == r["torch_per_s"]
    assert flat["charlm_vs_torch_contended"] is r["contended"]


def test_cpu_meter_sees_other_processes_work():
    import subprocess

    meter = _vs_torch.CpuMeter()
    if meter.read() is None:
        pytest.skip("no /proc on this system")
    before = meter.read()
    busy = subprocess.Popen([sys.executable, "-c", "import time\nt = time.time()\nwhile time.time() - t < 1.0: pass"])
    busy.wait()  # a second of another process's CPU (not a child the meter counts: it reads this process only)
    share = meter.foreign(before, meter.read())
    assert share >= 0.3 / meter.cpus


def test_no_torch_means_no_ratio(monkeypatch):
    def unavailable(*a, **k):
        raise _torch_env.TorchUnavailable("no torch wheel")
    monkeypatch.setattr(_torch_env, "python", unavailable)
    r = _vs_torch.compare({"a": None}, {}, {}, inputs=("x",), target="y", per_step=1, unit="tokens")
    assert r == {"torch_unavailable": "no torch wheel"}
    assert _vs_torch.figures("charlm", "tokens", r) == {"charlm_vs_torch": r}


# -- with torch: the references' sizes against the Keras models' -------------------------

TORCH = BENCH / ".torch-venv" / "bin" / "python"
needs_torch = pytest.mark.skipif(not (TORCH.exists() and (TORCH.parents[1] / ".installed").exists()),
                                 reason="no torch virtualenv (python -m benchmarks._torch_env makes it)")


def _torch_params(config, arrays=None):
    return _torch_env.run_json(_vs_torch.SCRIPT, arrays or {"x": np.zeros((1, 1, 1), np.int32)},
                               {"learning_rate": 1e-3, "inputs": ["x"], "target": "x", **config}, exe=TORCH)


@needs_torch
@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_char_lm_reference_has_the_keras_parameters(cell):
    kw = dict(cell=cell, units=8, embedding_dim=4, num_layers=2, dropout=0.1)
    keras_params = tfmodels.build("char_lm", num_classes=11, input_shape=(6,), **kw).count_params()
    torch_params = _torch_params({"kind": "char_lm", "vocab_size": 11, "num_classes": 11, **kw})["params"]
    # torch's LSTM keeps two bias vectors per gate (b_ih, b_hh): 4 x units more per layer
    assert torch_params == keras_params + (4 * 8 * 2 if cell == "lstm" else 0)


@needs_torch
def test_seq2seq_references_have_the_keras_parameters():
    kw = dict(embedding_dim=4, units=8, bidirectional_encoder=True)
    keras_lstm = rnn.seq2seq_lstm(source_vocab_size=13, **kw).count_params()
    torch_lstm = _torch_params({"kind": "seq2seq_lstm", "vocab_size": 13, **kw})["params"]
    assert torch_lstm == keras_lstm + 4 * 4 * 2 + 4 * 8  # second biases: two encoder directions, the decoder
    cfg = dict(num_layers=2, num_heads=2, dim=8, mlp_dim=16, dropout=0.1)
    keras_tr = tfmodels.build("transformer_seq2seq", vocab_size=13, source_len=7, target_len=5, **cfg).count_params()
    torch_tr = _torch_params({"kind": "seq2seq_transformer", "vocab_size": 13, **cfg},
                             {"x": np.zeros((1, 1, 1), np.int32), "source_positions": sinusoids(7, 8),
                              "target_positions": sinusoids(5, 8)})["params"]
    assert torch_tr == keras_tr


@needs_torch
def test_real_reference_trains_and_generates_in_the_worker():
    rng = np.random.default_rng(0)
    pool = {"x": rng.integers(0, 12, (2, 4, 6)).astype(np.int32), "y": rng.integers(0, 12, (2, 4, 6)).astype(np.int32)}
    config = {"kind": "char_lm", "vocab_size": 12, "num_classes": 12, "cell": "gru", "units": 8, "embedding_dim": 4,
              "num_layers": 1, "dropout": 0.0, "learning_rate": 1e-2, "inputs": ["x"], "target": "y"}
    with _torch_env.Worker(_vs_torch.SCRIPT, pool, config, exe=TORCH) as worker:
        losses = [worker.ask("train", steps=1)["loss"] for _ in range(6)]
        assert losses[-1] < losses[0]
        g = worker.ask("generate", prompt=[1, 2], n=10, temperature=0.8, seed=0)
        assert len(g["ids"]) == 10 and all(0 <= i < 12 for i in g["ids"]) and g["tokens_per_s"] > 0
        assert set(worker.ask("phases", steps=1)) == {"forward", "forward_backward", "step"}


@needs_torch
def test_seq2seq_reference_beam_searches_all_sources_at_once():
    """The torch worker's beam search: tfmodels' numpy search (loaded from its file) around
    the reference's decoder step, one step call a time step for every source."""
    rng = np.random.default_rng(0)
    src = rng.integers(3, 13, (4, 2, 7)).astype(np.int32)
    config = {"kind": "seq2seq_lstm", "vocab_size": 13, "embedding_dim": 4, "units": 8, "bidirectional_encoder": True,
              "learning_rate": 1e-2, "inputs": ["source", "decoder_in"], "target": "decoder_out"}
    pool = {"source": src, "decoder_in": src[..., :5], "decoder_out": src[..., 1:6]}
    with _torch_env.Worker(_vs_torch.SCRIPT, pool, config, exe=TORCH) as worker:
        r = worker.ask("beam", sources=src[0].tolist() * 5, max_len=6, beam_width=3, start_id=1, end_id=2)
    ids = np.array(r["ids"])
    assert ids.shape == (10, 6) and ids.min() >= 0 and ids.max() < 13
    assert r["steps"] <= 6 and r["rows"] <= 6 * 10 * 3 and r["sources_per_s"] > 0
    for row in ids:  # nothing after an end marker
        ends = np.flatnonzero(row == 2)
        assert not ends.size or not row[ends[0] + 1:].any()


def test_benchmarks_md_targets_every_ratio_and_marks_a_busy_machine():
    from benchmarks import render

    keys = {(bench, key) for bench, _, key, _, _ in render.TARGETS}
    assert {("rnn", "charlm_vs_torch_train_ratio"), ("rnn", "seq2seq_vs_torch_train_ratio"),
            ("rnn", "charlm_generate_tokens_per_s"), ("rnn", "seq2seq_beam3_sources_per_s"),
            ("transformer", "seq2seq_vs_torch_train_ratio"),
            ("transformer", "gpt_vs_torch_train_ratio")} <= keys
    rows = render._targets({"rnn": {"charlm_vs_torch_train_ratio": 1.2, "charlm_vs_torch_contended": True,
                                    "seq2seq_vs_torch_train_ratio": 0.9, "seq2seq_vs_torch_contended": False},
                            "transformer": {"seq2seq_vs_torch_train_ratio": 1.3}})
    row = {r.split(" | ")[1]: r for r in rows if "PyTorch's" in r}
    assert row["char LM training tokens/s / PyTorch's"].endswith(
        "| >= 1 | yes (on a busy machine: see its *_vs_torch details) |")
    assert row["LSTM seq2seq training examples/s / PyTorch's"].endswith("| 0.9 | >= 1 | **no** |")
    assert row["seq2seq training examples/s / PyTorch's"].endswith("| 1.3 | >= 1 | yes |")


@needs_torch
def test_gpt_reference_goes_through_the_shared_handoff_with_the_keras_parameters():
    """benchmarks/_gpt_torch.py, one shot through run_json: nanoGPT's layout at a tiny size
    has the parameters of tfmodels' GPT, trains and generates."""
    cfg = dict(n_layer=1, n_head=2, n_embd=16, block_size=32, vocab_size=65)
    ids = np.random.default_rng(0).integers(0, 65, 3000)
    r = _torch_env.run_json(BENCH / "_gpt_torch.py",
                            dict(train_ids=ids, val_x=ids[:64].reshape(2, 32), val_y=ids[1:65].reshape(2, 32),
                                 prompt=ids[:5]),
                            {**cfg, "iters": 3, "batch_size": 2, "learning_rate": 1e-3, "min_lr": 1e-4, "warmup": 1,
                             "weight_decay": 0.1, "beta_2": 0.99, "grad_clip": 1.0, "generate_tokens": 5}, exe=TORCH)
    assert r["params"] == tfmodels.build("gpt", dropout=0.0, **cfg).count_params()
    assert np.isfinite(r["val_loss"]) and r["train_tokens_per_s"] > 0 and r["generate_tokens_per_s"] > 0


@needs_torch
def test_worker_gpt_kind_trains_with_nanogpts_setup_and_the_keras_parameters():
    """The interleaved comparison's GPT (the worker's ``gpt`` kind): nanoGPT's AdamW,
    warmup-cosine rate and clipping, on the pool's windows; the loss falls."""
    cfg = dict(n_layer=1, n_head=2, n_embd=16, block_size=8, vocab_size=20)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 20, (2, 4, 8)).astype(np.int32)
    config = {"kind": "gpt", **cfg, "iters": 50, "learning_rate": 1e-2, "min_lr": 1e-3, "warmup": 2,
              "weight_decay": 0.1, "beta_2": 0.99, "grad_clip": 1.0, "inputs": ["x"], "target": "y"}
    with _torch_env.Worker(_vs_torch.SCRIPT, {"x": x, "y": np.roll(x, -1, axis=-1)}, config, exe=TORCH) as worker:
        assert worker.ask("params")["params"] == tfmodels.build("gpt", dropout=0.0, **cfg).count_params()
        losses = [worker.ask("train", steps=2)["loss"] for _ in range(8)]
        assert losses[-1] < losses[0]
