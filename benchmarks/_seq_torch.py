"""PyTorch references of the recurrent and seq2seq models, for the throughput sections.

Run by benchmarks/_vs_torch.py in the torch virtualenv (benchmarks/_torch_env.py) as a
worker that stays up while the benchmark alternates blocks of TensorFlow steps with
blocks of these:

    python _seq_torch.py data.npz config.json --serve   (one JSON request per stdin line)

``config["kind"]`` picks the model, layer for layer as the tfmodels builder:

* ``char_lm`` (``tfmodels.models.rnn.char_lm``): Embedding -> ``num_layers`` GRU/LSTM
  (dropout between layers) -> Dropout -> Linear logits. PyTorch's LSTM has two bias
  vectors per gate (``b_ih``, ``b_hh``) where Keras has one: 4 x units more parameters
  per layer and direction, the same compute; its GRU equals Keras' ``reset_after`` GRU.
* ``seq2seq_lstm`` (``rnn.seq2seq_lstm``): source Embedding -> (bidirectional) LSTM
  encoder, target Embedding -> LSTM decoder started from the encoder's (concatenated)
  final state -> additive attention over the encoder outputs (padding hidden) ->
  [output; context] -> Linear tanh -> Linear logits.
* ``seq2seq_transformer`` (``transformer.Seq2SeqTransformer``): embeddings plus the
  fixed sinusoid tables the benchmark passes (``source_positions``, ``target_positions``),
  dropout, ``nn.TransformerEncoderLayer`` / ``nn.TransformerDecoderLayer`` (pre-norm,
  GeLU, same widths and heads; ``F.scaled_dot_product_attention`` inside), final
  LayerNorms, Linear head; padding masked as keys in both attentions, causal decoder.
* ``gpt`` (``transformer.GPT``): the GPT benchmark's reference, benchmarks/_gpt_torch.py,
  trained as there (nanoGPT's AdamW, warmup-cosine rate and gradient clipping).

Batches are the benchmark's own (``data.npz``: a pool of batches, taken in order and
cycled, as the TensorFlow side takes them), so both sides train on identical batches.
Requests: ``params``; ``train(steps)`` -> seconds per step; ``phases(steps)`` ->
milliseconds of each forward, forward+backward and whole step; ``generate(prompt, n,
temperature, seed)`` (char LM) -> tokens/s, one step at a time with the hidden state
carried, sampled with ``torch.multinomial``; ``beam(sources, max_len, beam_width, start_id,
end_id)`` (LSTM seq2seq) -> sources/s of tfmodels' own batched beam search around this
model's decoder step.
"""
import importlib.util
import math
import time
from pathlib import Path

import numpy as np
import torch
import _gpt_torch
from _torch_env import read_inputs, reply, serve  # this folder is on the path of a script run from it
from torch import nn
from torch.nn import functional as F

RNNS = {"gru": nn.GRU, "lstm": nn.LSTM}
ROOT = Path(__file__).resolve().parents[1]


def _numpy_module(path):
    """A numpy-only module of tfmodels, loaded from its file (importing the package would
    need TensorFlow, which this virtualenv does not have)."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BEAM = _numpy_module(ROOT / "tfmodels" / "models" / "beam.py")  # the search the seq2seq decoder runs


class CharLM(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embedding = nn.Embedding(c["vocab_size"], c["embedding_dim"])
        self.rnn = RNNS[c["cell"]](c["embedding_dim"], c["units"], num_layers=c["num_layers"], batch_first=True,
                                   dropout=c["dropout"] if c["num_layers"] > 1 else 0.0)
        self.drop = nn.Dropout(c["dropout"])
        self.logits = nn.Linear(c["units"], c["num_classes"])

    def forward(self, x, state=None):
        y, state = self.rnn(self.embedding(x), state)
        return self.logits(self.drop(y)), state


class AdditiveAttention(nn.Module):
    """v^T tanh(W_q q + W_k k), as tfmodels.layers.AdditiveAttention (padding keys at -1e9)."""

    def __init__(self, query_dim, value_dim, units):
        super().__init__()
        self.w_query = nn.Linear(query_dim, units, bias=False)
        self.w_key = nn.Linear(value_dim, units)
        self.v = nn.Linear(units, 1, bias=False)

    def forward(self, query, values, value_ids):
        scores = self.v(torch.tanh(self.w_query(query)[:, :, None] + self.w_key(values)[:, None])).squeeze(-1)
        scores = scores + (value_ids == 0)[:, None, :].to(scores.dtype) * -1e9
        return torch.softmax(scores, -1) @ values


class Seq2SeqLSTM(nn.Module):
    def __init__(self, c):
        super().__init__()
        units, emb, vocab = c["units"], c["embedding_dim"], c["vocab_size"]
        self.bidirectional = c["bidirectional_encoder"]
        self.source_embedding = nn.Embedding(vocab, emb)
        self.encoder = nn.LSTM(emb, units // 2 if self.bidirectional else units, batch_first=True,
                               bidirectional=self.bidirectional)
        self.target_embedding = nn.Embedding(vocab, emb)
        self.decoder = nn.LSTM(emb, units, batch_first=True)
        self.attention = AdditiveAttention(units, units, c.get("attention_units") or units)
        self.attention_out = nn.Linear(2 * units, units)
        self.logits = nn.Linear(units, vocab)

    def encode(self, source):
        enc_out, (h, c) = self.encoder(self.source_embedding(source))
        if self.bidirectional:  # [2, B, u/2] (forward, backward) -> [1, B, u], as Keras concatenates them
            h, c = torch.cat([h[0], h[1]], -1)[None], torch.cat([c[0], c[1]], -1)[None]
        return enc_out, (h, c)

    def decode(self, decoder_in, state, enc_out, source):
        dec_out, state = self.decoder(self.target_embedding(decoder_in), state)
        context = self.attention(dec_out, enc_out, source)
        return self.logits(torch.tanh(self.attention_out(torch.cat([dec_out, context], -1)))), state

    def forward(self, source, decoder_in):
        enc_out, state = self.encode(source)
        return self.decode(decoder_in, state, enc_out, source)[0]


class Seq2SeqTransformer(nn.Module):
    def __init__(self, c, source_positions, target_positions):
        super().__init__()
        dim, vocab = c["dim"], c["vocab_size"]
        self.source_embedding = nn.Embedding(vocab, dim)
        self.target_embedding = nn.Embedding(vocab, dim)
        self.register_buffer("source_positions", torch.from_numpy(source_positions))
        self.register_buffer("target_positions", torch.from_numpy(target_positions))
        self.drop = nn.Dropout(c["dropout"])
        layer = dict(d_model=dim, nhead=c["num_heads"], dim_feedforward=c["mlp_dim"], dropout=c["dropout"],
                     activation="gelu", layer_norm_eps=1e-5, batch_first=True, norm_first=True)
        self.encoder = nn.ModuleList(nn.TransformerEncoderLayer(**layer) for _ in range(c["num_layers"]))
        self.decoder = nn.ModuleList(nn.TransformerDecoderLayer(**layer) for _ in range(c["num_layers"]))
        self.ln_encoder, self.ln_decoder = nn.LayerNorm(dim, eps=1e-5), nn.LayerNorm(dim, eps=1e-5)
        self.head = nn.Linear(dim, vocab)

    def forward(self, source, decoder_in):
        pad = source == 0  # True: a padding key, hidden
        x = self.drop(self.source_embedding(source) + self.source_positions[: source.shape[1]])
        for block in self.encoder:
            x = block(x, src_key_padding_mask=pad)
        memory = self.ln_encoder(x)
        t = decoder_in.shape[1]
        causal = torch.triu(torch.ones(t, t, dtype=torch.bool), 1)  # True: a future key, hidden
        y = self.drop(self.target_embedding(decoder_in) + self.target_positions[:t])
        for block in self.decoder:
            y = block(y, memory, tgt_mask=causal, memory_key_padding_mask=pad, tgt_is_causal=True)
        return self.head(self.ln_decoder(y))  # logits (the Keras head applies the softmax)


def build(c, data):
    if c["kind"] == "char_lm":
        return CharLM(c)
    if c["kind"] == "seq2seq_lstm":
        return Seq2SeqLSTM(c)
    if c["kind"] == "seq2seq_transformer":
        return Seq2SeqTransformer(c, data["source_positions"], data["target_positions"])
    if c["kind"] == "gpt":
        return _gpt_torch.GPT(c)
    raise ValueError(f"unknown kind {c['kind']!r}")


def _lr_factor(c):
    """Keras' CosineDecay(lr, decay_steps) as a factor of the initial rate (1.0 when constant)."""
    steps = c.get("cosine_decay_steps")
    if not steps:
        return lambda step: 1.0
    return lambda step: 0.5 * (1 + math.cos(math.pi * min(step, steps) / steps))


class Reference:
    def __init__(self, c, data, seed=0):
        torch.manual_seed(seed)
        self.c = c
        self.model = build(c, data)
        if c["kind"] == "gpt":  # nanoGPT's setup
            self.opt = _gpt_torch.optimizer(self.model, c)
            factor = lambda step: _gpt_torch.lr(c, step) / c["learning_rate"]  # noqa: E731
        else:  # Keras' Adam: epsilon 1e-7 (PyTorch's default is 1e-8)
            self.opt = torch.optim.Adam(self.model.parameters(), lr=c["learning_rate"], eps=1e-7)
            factor = _lr_factor(c)
        self.schedule = torch.optim.lr_scheduler.LambdaLR(self.opt, factor)
        self.inputs = [torch.from_numpy(data[k].astype(np.int64)) for k in c["inputs"]]  # [P, B, ...] each
        self.target = torch.from_numpy(data[c["target"]].astype(np.int64))
        self.cursor = 0

    def _batch(self):
        i = self.cursor % len(self.target)
        self.cursor += 1
        return [x[i] for x in self.inputs], self.target[i]

    def _loss(self, xs, y):
        out = self.model(*xs)
        logits = out[0] if isinstance(out, tuple) else out
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        if self.c.get("accuracy"):  # the Keras side compiles metrics=["accuracy"]
            with torch.no_grad():
                (logits.argmax(-1) == y).float().mean()
        return loss

    def step(self):
        xs, y = self._batch()
        loss = self._loss(xs, y)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        if self.c.get("grad_clip"):
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.c["grad_clip"])
        self.opt.step()
        self.schedule.step()
        return loss.item()

    def params(self):
        return {"params": sum(p.numel() for p in self.model.parameters()), "torch": torch.__version__,
                "threads": torch.get_num_threads()}

    def train(self, steps):
        self.model.train()
        times, loss = [], None
        for _ in range(steps):
            start = time.perf_counter()
            loss = self.step()
            times.append(time.perf_counter() - start)
        return {"seconds": times, "loss": loss}

    def phases(self, steps):
        """Milliseconds of each of `steps` forward passes (to the loss), forward passes with
        backward, and whole steps (with the optimizer): ``{phase: [ms, ...]}``."""
        self.model.train()
        out = {}
        for phase in ("forward", "forward_backward", "step"):
            out[phase] = []
            for _ in range(steps):
                start = time.perf_counter()
                if phase == "step":
                    self.step()
                else:
                    xs, y = self._batch()
                    loss = self._loss(xs, y)
                    if phase == "forward_backward":
                        self.opt.zero_grad(set_to_none=True)
                        loss.backward()
                    loss.item()
                out[phase].append((time.perf_counter() - start) * 1e3)
        return out

    @torch.no_grad()
    def generate(self, prompt, n, temperature=0.8, seed=0):
        """``n`` characters after `prompt`, one step at a time, the hidden state carried."""
        self.model.eval()
        gen = torch.Generator().manual_seed(seed)
        start = time.perf_counter()
        state, logits, out = None, None, []
        for c in prompt:
            logits, state = self.model(torch.tensor([[c]]), state)
        for _ in range(n):
            p = torch.softmax(logits[0, -1] / temperature, -1)
            nxt = int(torch.multinomial(p, 1, generator=gen))
            out.append(nxt)
            logits, state = self.model(torch.tensor([[nxt]]), state)
        seconds = time.perf_counter() - start
        return {"tokens_per_s": n / seconds, "seconds": seconds, "ids": out}

    @torch.no_grad()
    def beam(self, sources, max_len, beam_width, start_id, end_id):
        """Beam search (seq2seq_lstm) over `sources` with tfmodels' own numpy search
        (tfmodels/models/beam.py, loaded from its file), around this model's decoder step."""
        self.model.eval()
        start = time.perf_counter()
        src = torch.tensor(sources, dtype=torch.int64)
        enc_out, (h, c) = self.model.encode(src)
        steps = []

        def step(tokens, states, rows):
            rows = torch.from_numpy(rows)
            state = tuple(torch.from_numpy(np.ascontiguousarray(s))[None] for s in states)
            logits, (h, c) = self.model.decode(torch.from_numpy(tokens.astype(np.int64))[:, None], state,
                                               enc_out[rows], src[rows])
            steps.append(len(tokens))
            return torch.log_softmax(logits[:, 0], -1).numpy(), [h[0].numpy(), c[0].numpy()]
        ids = BEAM.beam_search(step, [h[0].numpy(), c[0].numpy()], max_len, beam_width, start_id, end_id)
        seconds = time.perf_counter() - start
        return {"sources_per_s": len(sources) / seconds, "seconds": seconds, "steps": len(steps),
                "rows": int(sum(steps)), "ids": ids.tolist()}


def main():
    data, c, serving = read_inputs()
    torch.set_num_threads(c.get("threads") or torch.get_num_threads())
    ref = Reference(c, data)
    handlers = {"params": ref.params, "train": ref.train, "phases": ref.phases, "generate": ref.generate,
                "beam": ref.beam}
    if serving:
        serve(handlers)
    else:  # one shot: the parameter count (what the tests ask)
        reply(ref.params())


if __name__ == "__main__":
    main()
