"""Batched beam search against the plain one-source-at-a-time search it replaces."""
import numpy as np
import pytest

from tfmodels.models.beam import beam_search

V, H, START, END = 7, 5, 1, 2


class ToyDecoder:
    """A random recurrent decoder: h' = tanh(E[token] + A h + S[source]), log-softmax(B h')."""

    def __init__(self, seed, end_bias):
        rng = np.random.default_rng(seed)
        self.E, self.A = rng.normal(size=(V, H)), rng.normal(size=(H, H)) * 0.5
        self.B, self.S = rng.normal(size=(H, V)) * 2, rng.normal(size=(50, H))
        self.B[:, END] += end_bias  # how soon hypotheses end
        self.calls = 0

    def __call__(self, tokens, states, sources):
        self.calls += 1
        h = np.tanh(self.E[tokens] + states[0] @ self.A + self.S[sources])
        z = h @ self.B
        return z - np.log(np.exp(z - z.max(1, keepdims=True)).sum(1, keepdims=True)) - z.max(1, keepdims=True), [h]


def one_source(step, h0, source, max_len, k):
    """The search as written for one source (the decoder's earlier implementation)."""
    beams, finished = [([], 0.0, h0)], []
    for _ in range(max_len):
        toks = np.array([b[0][-1] if b[0] else START for b in beams])
        logp, (hs,) = step(toks, [np.stack([b[2] for b in beams])], np.full(len(beams), source))
        cand = [(b[0] + [int(j)], b[1] + float(logp[i, j]), hs[i])
                for i, b in enumerate(beams) for j in np.argsort(logp[i])[-k:]]
        cand.sort(key=lambda b: -b[1])
        beams = []
        for b in cand:
            (finished if b[0][-1] == END else beams).append(b)
            if len(beams) == k:
                break
        if not beams or (finished and max(f[1] for f in finished) >= beams[0][1]):
            break
    best = max(finished or beams, key=lambda b: b[1])[0]
    out = np.zeros(max_len, np.int32)
    out[: len(best)] = best[:max_len]
    return out


@pytest.mark.parametrize("end_bias", [-3.0, 0.0, 4.0])  # rarely, sometimes, soon finished
@pytest.mark.parametrize("k", [1, 3, 4])
def test_batched_search_finds_what_the_per_source_search_finds(end_bias, k):
    dec = ToyDecoder(seed=int(end_bias * 10) + 40 + k, end_bias=end_bias)
    n, max_len = 40, 9
    h0 = np.random.default_rng(k).normal(size=(n, H))
    want = np.stack([one_source(dec, h0[i], i, max_len, k) for i in range(n)])
    dec.calls = 0
    got = beam_search(dec, [h0], max_len, k, START, END)
    np.testing.assert_array_equal(got, want)
    assert dec.calls <= max_len  # one decoder call a time step for all sources
    ended = (got == END).any(1).mean()  # both kinds of answer occur: finished and still-open beams
    assert 0 < ended < 1 if end_bias == 0 else (ended > 0.25 if end_bias > 0 else True)


def test_beam_width_one_is_greedy():
    dec = ToyDecoder(seed=3, end_bias=0.5)
    h0 = np.random.default_rng(0).normal(size=(20, H))
    got = beam_search(dec, [h0], 8, 1, START, END)
    tok, h, done = np.full(20, START), h0, np.zeros(20, bool)
    greedy = np.zeros((20, 8), np.int32)
    for t in range(8):
        logp, (h,) = dec(tok, [h], np.arange(20))
        tok = np.where(done, 0, logp.argmax(1))
        greedy[:, t] = tok
        done |= tok == END
    np.testing.assert_array_equal(got, greedy)
