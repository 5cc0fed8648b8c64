"""Beam search for every source of a batch at once, over any one-step decoder.

numpy alone (no TensorFlow), so that the PyTorch reference of the benchmarks runs the
very same search around its own network (benchmarks/_seq_torch.py). Each of the ``T``
steps makes one call of the decoder for the live beams of all unfinished sources,
where a search per source makes ``n * T`` small ones.

The search, for each source: from the start token, expand every beam by its
``beam_width`` most likely next tokens; among all candidates by total log-probability
(ties in beam order), a candidate that ends (``end_id``) is kept aside as finished and
the others fill the next beams, up to ``beam_width``. A source stops when no beam is
left or its best finished hypothesis scores at least its best beam; the answer is the
best finished hypothesis (else the best beam), cut at ``max_len`` and 0-padded.
"""
import numpy as np


def beam_search(step, states, max_len: int, beam_width: int, start_id: int, end_id: int) -> np.ndarray:
    """``(n, max_len)`` ids, the best hypothesis of each of ``n`` sources.

    Args:
      step: ``step(tokens [R] int32, states, sources [R] int) -> (log_probs [R, V],
        new_states)``: one decoder step for R beams, ``sources`` saying which source
        each beam decodes (to pick its encoder memory); ``states`` and ``new_states``
        are lists of arrays ``[R, ...]`` (an LSTM's h and c).
      states: the decoder's initial states, arrays ``[n, ...]``.
    """
    n, k = len(states[0]), beam_width
    score = np.full((n, k), -np.inf)
    score[:, 0] = 0.0
    beam_states = [np.repeat(np.asarray(s)[:, None], k, 1) for s in states]  # [n, k, ...]
    history = np.zeros((n, k, max_len), np.int32)
    best_finished = np.full(n, -np.inf)
    finished = np.zeros((n, max_len), np.int32)
    active = np.ones(n, bool)
    for t in range(max_len):
        src = np.flatnonzero(active)
        alive = np.isfinite(score[src])  # [A, k]
        rows_src, rows_beam = src[np.nonzero(alive)[0]], np.nonzero(alive)[1]
        tokens = history[rows_src, rows_beam, t - 1] if t else np.full(len(rows_src), start_id, np.int32)
        log_probs, new_states = step(tokens.astype(np.int32), [s[rows_src, rows_beam] for s in beam_states], rows_src)
        log_probs = np.asarray(log_probs, np.float64)
        top = np.argsort(log_probs, axis=1)[:, -k:]  # each beam's k best tokens, ascending
        # candidates of each active source in beam order: [A, k beams * k tokens]
        where = np.searchsorted(src, rows_src)
        cand_score = np.full((len(src), k, k), -np.inf)
        cand_token = np.zeros((len(src), k, k), np.int32)
        cand_row = np.zeros((len(src), k, k), np.int64)  # the decoded row each candidate continues
        cand_score[where, rows_beam] = score[rows_src, rows_beam][:, None] + np.take_along_axis(log_probs, top, 1)
        cand_token[where, rows_beam] = top
        cand_row[where, rows_beam] = np.arange(len(rows_src))[:, None]
        order = np.argsort(-cand_score.reshape(len(src), -1), axis=1, kind="stable")
        s_score = np.take_along_axis(cand_score.reshape(len(src), -1), order, 1)
        s_token = np.take_along_axis(cand_token.reshape(len(src), -1), order, 1)
        s_row = np.take_along_axis(cand_row.reshape(len(src), -1), order, 1)
        s_beam = order // k
        valid, ends = np.isfinite(s_score), s_token == end_id
        grows = valid & ~ends
        rank = np.cumsum(grows, 1)
        taken = grows & (rank <= k)  # the next beams
        seen_end = valid & ends & (rank - grows < k)  # finished before the k-th beam was taken
        # finished: the first (best) one this step, if it beats the earlier best
        has_end = seen_end.any(1)
        first_end = seen_end.argmax(1)
        end_score = np.where(has_end, s_score[np.arange(len(src)), first_end], -np.inf)
        better = end_score > best_finished[src]
        for a in np.flatnonzero(better):
            i, j = src[a], first_end[a]
            best_finished[i] = end_score[a]
            finished[i] = 0
            finished[i, :t] = history[i, s_beam[a, j], :t]
            finished[i, t] = end_id
        # the next beams, best first; unused slots stay empty (-inf)
        slot = np.where(taken, rank - 1, k)
        new_score = np.full((len(src), k + 1), -np.inf)
        new_history = np.zeros((len(src), k + 1, max_len), np.int32)
        a_idx = np.broadcast_to(np.arange(len(src))[:, None], slot.shape)
        new_score[a_idx[taken], slot[taken]] = s_score[taken]
        new_history[a_idx[taken], slot[taken]] = history[src[a_idx[taken]], s_beam[taken]]
        new_history[a_idx[taken], slot[taken], t] = s_token[taken]
        score[src], history[src] = new_score[:, :k], new_history[:, :k]
        for s, new in zip(beam_states, new_states):
            new = np.asarray(new)
            s[src[a_idx[taken]], slot[taken]] = new[s_row[taken]]
        stop = ~taken.any(1) | (best_finished[src] >= new_score[:, 0])
        active[src[stop]] = False
        if not active.any():
            break
    out = finished.copy()
    unfinished = ~np.isfinite(best_finished)
    out[unfinished] = history[unfinished, score[unfinished].argmax(1)]
    return out
