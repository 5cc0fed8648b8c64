"""The PyTorch reference of the GPT benchmark: nanoGPT's model.py layout, our GPT's shapes.

Run by benchmarks/transformer.py in the torch virtualenv (benchmarks/_torch_env.py):

    python _gpt_torch.py data.npz config.json   -> one JSON line on stdout

``data.npz`` holds ``train_ids`` and the validation windows ``val_x``/``val_y`` the
TensorFlow side is scored on; ``config.json`` the model (``n_layer``, ``n_head``,
``n_embd``, ``block_size``, ``vocab_size``) and the training setup (``iters``,
``batch_size``, ``learning_rate``, ``min_lr``, ``warmup``, ``weight_decay``,
``beta_2``, ``grad_clip``). Layer for layer as ``tfmodels.models.transformer.GPT``:
learned positions, pre-norm blocks (LayerNorm with bias, bias-free linears, GeLU MLP
of 4x width), final LayerNorm, logits through the tied token embedding; attention is
``F.scaled_dot_product_attention`` (PyTorch's fused kernel), as nanoGPT uses.
Batches are drawn as the TensorFlow side draws them (numpy, same seed); throughput
counts steps 2..N on both sides (TensorFlow's first step traces and compiles). Generation is
nanoGPT's ``generate``: the whole cropped window again for every token (no cache).
"""
import math
import time

import numpy as np
import torch
from _torch_env import read_inputs, reply  # this folder is on the path of a script run from it
from torch import nn
from torch.nn import functional as F


class CausalSelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.n_head = c["n_head"]
        self.c_attn = nn.Linear(c["n_embd"], 3 * c["n_embd"], bias=False)
        self.c_proj = nn.Linear(c["n_embd"], c["n_embd"], bias=False)

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.c_attn(x).split(d, dim=2)
        q, k, v = (z.view(b, t, self.n_head, d // self.n_head).transpose(1, 2) for z in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.c_proj(y.transpose(1, 2).contiguous().view(b, t, d))


class MLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c_fc = nn.Linear(c["n_embd"], 4 * c["n_embd"], bias=False)
        self.c_proj = nn.Linear(4 * c["n_embd"], c["n_embd"], bias=False)

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.ln_1, self.attn = nn.LayerNorm(c["n_embd"]), CausalSelfAttention(c)
        self.ln_2, self.mlp = nn.LayerNorm(c["n_embd"]), MLP(c)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.block_size = c["block_size"]
        self.wte = nn.Embedding(c["vocab_size"], c["n_embd"])
        self.wpe = nn.Embedding(c["block_size"], c["n_embd"])
        self.h = nn.ModuleList(Block(c) for _ in range(c["n_layer"]))
        self.ln_f = nn.LayerNorm(c["n_embd"])
        for name, p in self.named_parameters():  # nanoGPT's init
            if p.dim() == 2:
                std = 0.02 / math.sqrt(2 * c["n_layer"]) if name.endswith("c_proj.weight") else 0.02
                nn.init.normal_(p, 0.0, std)

    def forward(self, idx):
        x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1]))
        for block in self.h:
            x = block(x)
        return self.ln_f(x) @ self.wte.weight.T  # tied output projection

    @torch.no_grad()
    def generate(self, idx, n, top_k=10):
        for _ in range(n):
            logits = self(idx[:, -self.block_size:])[:, -1]
            kth = torch.topk(logits, top_k).values[:, -1:]
            logits[logits < kth] = -float("inf")
            idx = torch.cat([idx, torch.multinomial(F.softmax(logits, -1), 1)], 1)
        return idx


def optimizer(model, c):
    """nanoGPT's AdamW: weight decay on the 2-D weights only, betas (0.9, ``beta_2``)."""
    decay = [p for p in model.parameters() if p.dim() >= 2]
    other = [p for p in model.parameters() if p.dim() < 2]
    return torch.optim.AdamW([{"params": decay, "weight_decay": c["weight_decay"]},
                              {"params": other, "weight_decay": 0.0}],
                             lr=c["learning_rate"], betas=(0.9, c["beta_2"]))


def lr(c, step):
    """nanoGPT's get_lr, as WarmupCosine on the TensorFlow side: linear warmup, cosine to min_lr."""
    if step < c["warmup"]:
        return c["learning_rate"] * (step + 1) / c["warmup"]
    ratio = min(1.0, (step - c["warmup"]) / (c["iters"] - c["warmup"]))
    return c["min_lr"] + 0.5 * (1 + math.cos(math.pi * ratio)) * (c["learning_rate"] - c["min_lr"])


def main(seed=0):
    torch.manual_seed(seed)
    data, c, _ = read_inputs()
    train_ids = data["train_ids"]
    model = GPT(c)
    opt = optimizer(model, c)

    rng, block, bs = np.random.default_rng(seed), c["block_size"], c["batch_size"]
    losses, times = [], []
    for it in range(c["iters"]):
        start = time.perf_counter()
        s = rng.integers(0, len(train_ids) - block - 1, bs)
        w = torch.from_numpy(train_ids[s[:, None] + np.arange(block + 1)].astype(np.int64))
        for group in opt.param_groups:
            group["lr"] = lr(c, it)
        logits = model(w[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), w[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), c["grad_clip"])
        opt.step()
        losses.append(loss.item())
        times.append(time.perf_counter() - start)
    model.eval()
    with torch.no_grad():
        vx, vy = torch.from_numpy(data["val_x"].astype(np.int64)), torch.from_numpy(data["val_y"].astype(np.int64))
        total = sum(F.cross_entropy(model(vx[i:i + 256]).reshape(-1, c["vocab_size"]), vy[i:i + 256].reshape(-1),
                                    reduction="sum").item() for i in range(0, len(vx), 256))
    prompt = torch.from_numpy(data["prompt"].astype(np.int64))[None]
    model.generate(prompt, 5)  # warm up
    n = c.get("generate_tokens", 200)
    t0 = time.perf_counter()
    model.generate(prompt, n)
    gen = n / (time.perf_counter() - t0)
    reply({"torch": torch.__version__, "threads": torch.get_num_threads(),
                      "params": sum(p.numel() for p in model.parameters()),
                      "train_tokens_per_s": (c["iters"] - 1) * bs * block / sum(times[1:]),  # steps 2..N
                      "train_seconds": sum(times), "first_step_seconds": times[0],
                      "val_loss": total / vy.numel(), "train_loss_last100": float(np.mean(losses[-100:])),
                      "generate_tokens_per_s": gen, "generate": "no cache (nanoGPT's generate)"})


if __name__ == "__main__":
    main()
