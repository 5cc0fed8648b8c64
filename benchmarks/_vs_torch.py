"""Training throughput of a tfmodels model beside its PyTorch reference, measured fairly.

Both sides train on the same pool of batches, taken in the same order, for the same
number of steps, on the same machine in the same minutes:

1. TensorFlow's first step (tracing, and XLA compilation where the model compiles
   with ``jit_compile``) is timed on its own and recorded apart; then ``warmup``
   steps on each side are left out (torch's first steps allocate and pick kernels).
2. ``rounds`` rounds of one ``block`` of steps per side, TensorFlow and torch
   alternating (ABBA: the order reverses every round), so a swing in the machine's
   speed, which reaches 2x within minutes on a shared VM, falls on both sides alike.
   Throughput is each side's steps over its summed block time; ``round_ratios`` shows
   the spread. Other processes on the machine do not slow both sides alike: under a
   second workload on the 2 cores, torch's blocks took 3-5x as long as on the quiet
   machine and TensorFlow's 1.1-1.5x (2026-12-04: OpenMP's threads wait for each other
   at every kernel). So each block records the share of the machine's CPU time that
   neither this process nor the torch worker used (``foreign_cpu_share``, from /proc);
   a round with a block above ``QUIET`` is left out and rounds continue, up to twice
   ``rounds`` in all, until ``rounds`` quiet ones are counted. Where fewer are quiet,
   every round counts and ``contended`` says so. More than one TensorFlow variant (e.g.
   rolled and unrolled time loops) can be interleaved the same way; the first is the
   one the benchmark trains with.
   Variants too slow to interleave at full length (``tried``: XLA on a recurrent
   model's while loop runs ~10-60x slower here) are timed briefly after the rounds.
3. Where TensorFlow is slower, a per-phase split of a step on both sides: forward
   (to the loss), backward (forward with gradients, less forward) and optimizer (the
   whole step, less both), from the median ms of each phase over 3 alternating rounds
   of a few steps on one batch. Differences of medians: small phases can come out
   slightly negative in the noise.

The TensorFlow step is the compiled model's Keras ``train_function``, what
``model.fit`` runs per batch (optimizer, loss and metrics as compiled), without
callbacks; its input is a prefetched ``tf.data`` pipeline over the pool. The torch
side is a worker process in the torch virtualenv (benchmarks/_seq_torch.py through
:class:`benchmarks._torch_env.Worker`) that times its own steps, so the pipe between
the processes is not counted.
"""
import os
import time
from pathlib import Path

import numpy as np

import tfmodels  # noqa: F401  (first: it selects tf_keras behind tf.keras)
import tensorflow as tf

SCRIPT = Path(__file__).parent / "_seq_torch.py"
#: The measurement's shape: 6 alternating rounds of 25 steps a side after 3 warm-up steps.
PLAN = dict(rounds=6, block=25, warmup=3)
#: A block ran on a quiet machine if others used at most this share of its CPU time.
QUIET = 0.10


class CpuMeter:
    """Busy CPU seconds of the whole machine against those of this process and `pids`
    (Linux /proc; elsewhere :meth:`foreign` returns None)."""

    def __init__(self, pids=()):
        self.pids, self.tick, self.cpus = list(pids), os.sysconf("SC_CLK_TCK"), os.cpu_count() or 1

    def read(self):
        try:
            with open("/proc/stat") as f:
                v = [int(x) for x in f.readline().split()[1:8]]
            ours = sum(os.times()[:2])
            for pid in self.pids:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                ours += (int(fields[11]) + int(fields[12])) / self.tick  # utime, stime
        except (OSError, ValueError, IndexError):
            return None
        busy = (v[0] + v[1] + v[2] + v[5] + v[6]) / self.tick  # user nice system irq softirq
        return time.perf_counter(), busy, ours

    def foreign(self, before, after):
        """The share of the machine's CPU time between two reads used by other processes."""
        if before is None or after is None:
            return None
        wall = after[0] - before[0]
        return max(0.0, (after[1] - before[1]) - (after[2] - before[2])) / (wall * self.cpus) if wall > 0 else 0.0


def batch_pool(arrays: dict, batch_size: int, batches: int, seed: int = 0) -> dict:
    """``batches`` batches of ``batch_size`` examples drawn without replacement (seeded)
    from equally long arrays: ``{name: [batches, batch_size, ...]}``."""
    n = len(next(iter(arrays.values())))
    if batches * batch_size > n:
        batches = n // batch_size
    take = np.random.default_rng(seed).permutation(n)[: batches * batch_size]
    return {k: np.asarray(v)[take].reshape(batches, batch_size, *np.shape(v)[1:]) for k, v in arrays.items()}


class TFSide:
    """A compiled Keras model stepping through the pool, one ``train_function`` call a step."""

    def __init__(self, model, pool: dict, inputs, target):
        self.model = model
        xs = tuple(pool[k] for k in inputs)
        ds = tf.data.Dataset.from_tensor_slices((xs[0] if len(xs) == 1 else xs, pool[target]))
        self.iterator = iter(ds.repeat().prefetch(tf.data.AUTOTUNE))
        self.fn = model.make_train_function()
        self.first = {k: v[0] for k, v in pool.items()}  # one batch for the phase split
        self.inputs, self.target = tuple(inputs), target

    def run(self, steps: int) -> float:
        """Seconds for `steps` steps, waiting for the last one's loss."""
        start = time.perf_counter()
        logs = None
        for _ in range(steps):
            logs = self.fn(self.iterator)
        float(logs["loss"])
        return time.perf_counter() - start

    def phases(self, steps: int) -> dict:
        """Milliseconds of each of `steps` forward passes (to the loss), forward passes
        with gradients, and whole steps: ``{phase: [ms, ...]}``."""
        if not hasattr(self, "_phase_fns"):
            model, jit = self.model, bool(getattr(self.model, "_jit_compile", False))
            xs = [tf.constant(self.first[k]) for k in self.inputs]
            self._phase_args = (xs[0] if len(xs) == 1 else tuple(xs)), tf.constant(self.first[self.target])

            @tf.function(jit_compile=jit)
            def forward(x, y):
                return model.compute_loss(x, y, model(x, training=True))

            @tf.function(jit_compile=jit)
            def forward_backward(x, y):
                with tf.GradientTape() as tape:
                    loss = model.compute_loss(x, y, model(x, training=True))
                return loss, tape.gradient(loss, model.trainable_variables)  # returned: not pruned

            self._phase_fns = {"forward": forward, "forward_backward": forward_backward}
            for fn in self._phase_fns.values():
                _wait(fn(*self._phase_args))  # trace (and compile) first
        out = {}
        for name, fn in self._phase_fns.items():
            out[name] = []
            for _ in range(steps):
                start = time.perf_counter()
                _wait(fn(*self._phase_args))
                out[name].append((time.perf_counter() - start) * 1e3)
        out["step"] = [self.run(1) * 1e3 for _ in range(steps)]
        return out


def _wait(result):
    """Fetch every output's tensors (an embedding's gradient is IndexedSlices)."""
    tf.nest.map_structure(lambda t: t.numpy(), result, expand_composites=True)


def _split(times: dict) -> dict:
    """Forward / backward / optimizer ms from the median of each phase's step times."""
    p = {k: float(np.median(v)) for k, v in times.items()}
    return {"forward_ms": p["forward"], "backward_ms": p["forward_backward"] - p["forward"],
            "optimizer_ms": p["step"] - p["forward_backward"], "step_ms": p["step"]}


def compare(models: dict, pool: dict, config: dict, *, inputs, target, per_step: int, unit: str,
            plan: dict = PLAN, phase_steps: int = 0, torch_arrays: dict | None = None, then=None,
            tried: dict | None = None, tried_steps: int = 3) -> dict:
    """Interleaved training throughput of each Keras model in `models` (``{label:
    compiled model}``, the first one primary) against the torch reference `config`
    describes (``kind``, sizes, ``learning_rate``...; `torch_arrays` are extra arrays
    it needs). `per_step` counts `unit` (tokens, examples) per step.
    ``{"torch_unavailable": why}`` where torch cannot be installed. Where the primary
    model is slower and ``phase_steps`` is given, a forward/backward/optimizer split of
    both sides follows; ``then(torch_worker)``, if given, runs last with the worker still
    up and its dict is merged into the result. ``tried`` (``{label: compiled model}``)
    are timed over ``tried_steps`` steps each after their first, beside as many of the
    primary's and torch's."""
    from benchmarks._torch_env import TorchUnavailable, Worker, python

    try:
        exe = python()
    except TorchUnavailable as e:
        return {"torch_unavailable": str(e)}
    rounds, block, warmup = plan["rounds"], plan["block"], plan["warmup"]
    sides = {label: TFSide(m, pool, inputs, target) for label, m in models.items()}
    config = {**config, "inputs": list(inputs), "target": target}
    with Worker(SCRIPT, {**pool, **(torch_arrays or {})}, config, exe=exe) as torch_side:
        info = torch_side.ask("params")
        first = {label: side.run(1) for label, side in sides.items()}  # trace + compile + one step
        for side in sides.values():
            side.run(warmup - 1)
        torch_warm = torch_side.ask("train", steps=warmup)["seconds"]
        order = [*sides, "torch"]
        meter = CpuMeter([torch_side.proc.pid])
        blocks, foreign = {who: [] for who in order}, {who: [] for who in order}
        quiet, r = [], 0
        while len(quiet) < rounds and r < 2 * rounds:
            for who in (order if r % 2 == 0 else order[::-1]):
                before = meter.read()
                if who == "torch":
                    blocks[who].append(float(sum(torch_side.ask("train", steps=block)["seconds"])))
                else:
                    blocks[who].append(sides[who].run(block))
                foreign[who].append(meter.foreign(before, meter.read()))
            if all((foreign[who][r] or 0.0) <= QUIET for who in order):
                quiet.append(r)
            r += 1
        counted = quiet if len(quiet) >= 2 else list(range(r))
        rate = {who: len(counted) * block * per_step / sum(t[i] for i in counted) for who, t in blocks.items()}
        primary = next(iter(sides))
        phases = {}
        if phase_steps and rate[primary] < rate["torch"]:  # 3 alternating rounds, medians per phase
            times = {who: {} for who in order}
            for _ in range(3):
                for who in order:
                    got = (torch_side.ask("phases", steps=phase_steps) if who == "torch"
                           else sides[who].phases(phase_steps))
                    for k, v in got.items():
                        times[who].setdefault(k, []).extend(v)
            phases = {who: _split(t) for who, t in times.items()}
        extra = then(torch_side) if then else {}
        if tried:
            extra["tf_tried"] = {}
            for label, model in tried.items():
                side = TFSide(model, pool, inputs, target)
                first_step = side.run(1)
                extra["tf_tried"][label] = {
                    "first_step_seconds": first_step, "step_ms": side.run(tried_steps) / tried_steps * 1e3,
                    "primary_step_ms": sides[primary].run(tried_steps) / tried_steps * 1e3,
                    "torch_step_ms": sum(torch_side.ask("train", steps=tried_steps)["seconds"]) / tried_steps * 1e3,
                    "steps": tried_steps}
    out = {
        "tf_per_s": rate[primary], "torch_per_s": rate["torch"], "ratio": rate[primary] / rate["torch"],
        "unit": f"{unit}/s",
        "round_ratios": [a / b for a, b in zip(blocks["torch"], blocks[primary])],  # torch time / TF time
        "rounds_run": r, "rounds_counted": counted, "contended": len(quiet) < 2,
        "foreign_cpu_share": foreign,
        "tf_first_step_seconds": first[primary],
        "torch_first_steps_seconds": torch_warm,
        "measured": f"alternating rounds (order reversed every round) of {block} steps a side until {rounds} "
                    f"ran on a quiet machine (others' CPU share <= {QUIET} in every block; at most {2 * rounds}), "
                    f"after TensorFlow's first step (timed apart) and {warmup} warm-up steps a side; "
                    f"{per_step} {unit} a step; identical batches in the same order on both sides",
        "block_seconds": blocks,
        "torch": info,
    }
    if len(sides) > 1:
        out["tf_variants"] = {label: {f"{unit}_per_s": rate[label], "vs_torch": rate[label] / rate["torch"],
                                      "first_step_seconds": first[label]} for label in sides}
    if phases:
        out["phases_ms"] = phases
    return {**out, **extra}


def figures(prefix: str, unit: str, r: dict) -> dict:
    """The flat result keys of a comparison: ``{prefix}_train_{unit}_per_s``, its torch_
    twin, ``{prefix}_vs_torch_train_ratio``, TensorFlow's first step, whether the
    machine was too busy to count quiet rounds (``{prefix}_vs_torch_contended``), and the
    details under ``{prefix}_vs_torch`` (only those where torch is missing: no ratio)."""
    if "torch_unavailable" in r:
        return {f"{prefix}_vs_torch": r}
    return {f"{prefix}_train_{unit}_per_s": r["tf_per_s"], f"torch_{prefix}_train_{unit}_per_s": r["torch_per_s"],
            f"{prefix}_vs_torch_train_ratio": r["ratio"], f"{prefix}_first_step_seconds": r["tf_first_step_seconds"],
            # True: fewer than 2 rounds ran on a quiet machine, the ratio is the load's as much as the models'
            f"{prefix}_vs_torch_contended": r["contended"], f"{prefix}_vs_torch": r}


def explain(r: dict, why: str) -> str:
    """One paragraph on where TensorFlow's step loses: the measured phase split, then `why`."""
    p = r.get("phases_ms")
    if not p:
        return why
    ours, theirs = next(v for k, v in p.items() if k != "torch"), p["torch"]
    split = ", ".join(f"{k[:-3]} {ours[k]:.1f} against {theirs[k]:.1f}"
                      for k in ("forward_ms", "backward_ms", "optimizer_ms"))
    return (f"TensorFlow's step took {ours['step_ms']:.1f} ms against torch's {theirs['step_ms']:.1f} ms "
            f"(medians of per-step times on one batch, 3 alternating rounds; {split} ms; a small phase can "
            f"come out below 0 as a difference of medians). {why}")
