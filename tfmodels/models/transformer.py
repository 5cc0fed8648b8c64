"""Transformers for sequences: encoder classifier (BERT-like), GPT, encoder-decoder.

Read top to bottom like nanoGPT's model.py: a config, the model classes, decoding,
then the registered builders. All attention is tfmodels.layers (matmul/reshape/
transpose, no einsum), so the models convert to TFLite builtin ops.
"""
import dataclasses

import numpy as np

from tfmodels._keras import keras, tf
from tfmodels.layers import ClassToken, PositionEmbedding, TransformerBlock, padding_mask
from tfmodels.models._heads import classifier_head
from tfmodels.registry import register

layers = keras.layers


def _init():
    return keras.initializers.RandomNormal(stddev=0.02)


@dataclasses.dataclass
class GPTConfig:
    """nanoGPT's small CPU configuration for Tiny Shakespeare characters by default."""

    vocab_size: int = 65
    block_size: int = 64
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.0
    bias: bool = False


# -- decoder-only --------------------------------------------------------------------


@keras.utils.register_keras_serializable(package="tfmodels")
class GPT(keras.Model):
    """Decoder-only causal LM (Radford et al. 2018/2019; Karpathy's nanoGPT).

    Token + learned position embeddings, ``n_layer`` pre-norm causal blocks, final
    LayerNorm, logits through the (tied) token embedding. ``call(tokens)`` ->
    logits ``[B, T, vocab]``; :meth:`generate` decodes with a key/value cache.
    """

    from_logits = True  # call() returns logits: the trainer's default loss takes them so

    def __init__(self, vocab_size=65, block_size=64, n_layer=4, n_head=4, n_embd=128,
                 dropout=0.0, bias=False, **kwargs):
        super().__init__(**kwargs)
        self.config = GPTConfig(vocab_size, block_size, n_layer, n_head, n_embd, dropout, bias)
        self.wte = layers.Embedding(vocab_size, n_embd, embeddings_initializer=_init(), name="wte")
        self.wpe = PositionEmbedding(block_size, "learned", name="wpe")
        self.drop = layers.Dropout(dropout)
        self.blocks = [TransformerBlock(n_head, 4 * n_embd, dropout, "pre", causal=True,
                                        use_bias=bias, name=f"h{i}") for i in range(n_layer)]
        self.ln_f = layers.LayerNormalization(epsilon=1e-5, name="ln_f")
        # the compiled decoding functions, keyed by tuples: kept out of Keras' attribute
        # tracking, which would make the model unsaveable (and its TFLite conversion lose
        # its signatures) once generate() had run
        object.__setattr__(self, "_fns", {})

    def call(self, tokens, training=None):
        if tokens.shape[1] is not None and tokens.shape[1] > self.config.block_size:
            raise ValueError(f"GPT context is {self.config.block_size} tokens, given {tokens.shape[1]}")
        x = self.drop(self.wpe(self.wte(tokens)), training=training)
        for block in self.blocks:
            x = block(x, training=training)
        return self._logits(self.ln_f(x))

    def _logits(self, x):  # weight tying: the output projection is the embedding matrix
        return tf.matmul(x, self.wte.embeddings, transpose_b=True)

    def step(self, tokens, caches, pos):
        """Run new ``tokens [B, T]`` at positions ``pos..``: last logits and updated caches.

        ``caches``: one ``(k, v)`` per block, each ``[B, heads, block_size, head_dim]``,
        preallocated; the new keys/values are written in place of slots ``pos..``.
        """
        x = self.wpe(self.wte(tokens), offset=pos)
        new = []
        for block, (k, v) in zip(self.blocks, caches):
            x, kv = block(x, cache=(k, v, pos))
            new.append(kv)
        return self._logits(self.ln_f(x[:, -1:]))[:, 0], new

    def empty_cache(self, batch):
        c = self.config
        shape = tf.stack([batch, c.n_head, c.block_size, c.n_embd // c.n_head])
        return [(tf.zeros(shape), tf.zeros(shape)) for _ in range(c.n_layer)]

    def generate(self, prompt, max_new_tokens, temperature=1.0, top_k=None, seed=0, use_cache=True,
                 slide=None):
        """Continue ``prompt`` (token ids ``[T]`` or ``[B, T]``) by ``max_new_tokens`` tokens.

        ``temperature=0`` is greedy decoding; ``top_k`` samples among the k likeliest
        (seeded, stateless: the same ``seed`` gives the same tokens with or without cache).
        The model sees a window of at most ``block_size`` tokens: when it is full, its
        oldest ``slide`` tokens are dropped (:func:`window_start`). ``slide=1`` is
        nanoGPT's crop to the last ``block_size`` tokens, which re-encodes the whole
        window for every token; the default, ``block_size // 2``, re-encodes the kept
        half once and then decodes ``slide`` tokens against the cache.

        With ``use_cache`` one compiled function runs the decode loop in-graph
        (``tf.while_loop``): one single-token step per token against a preallocated
        key/value cache, the window re-encoded only when it slides. Without, the whole
        window runs again for every token. Returns ``[B, T + max_new_tokens]``.
        """
        idx = np.atleast_2d(np.asarray(prompt, np.int32))
        if idx.shape[1] == 0:
            raise ValueError("prompt must hold at least one token")
        block = self.config.block_size
        slide = block // 2 if slide is None else int(slide)
        if not 1 <= slide <= block:
            raise ValueError(f"slide must be in 1..block_size={block}, given {slide}")
        greedy = temperature == 0
        temp = tf.constant(1.0 if greedy else float(temperature))
        seed = tf.constant(int(seed), tf.int32)
        out = np.concatenate([idx, np.zeros((len(idx), max_new_tokens), np.int32)], axis=1)
        length, start = idx.shape[1], max(0, idx.shape[1] - block)
        end = length + max_new_tokens
        while length < end:
            start = window_start(start, length, block, slide)
            window = tf.constant(out[:, start:length])
            if use_cache:  # re-encode the window once, then decode against the cache in-graph
                n = min(block - (length - start) + 1, end - length)
                logits, caches = self._fn("prefill")(window)
                new = self._fn("decode", greedy, top_k)(logits, caches, tf.constant(length - start),
                                                         tf.constant(n), temp, seed, tf.constant(length))
                out[:, length:length + n] = new.numpy()[:, :n]
                length += n
            else:  # the whole window again, every token
                logits = self._fn("forward")(window)
                out[:, length] = self._fn("sample", greedy, top_k)(logits, temp, seed,
                                                                   tf.constant(length)).numpy()
                length += 1
        return out

    # XLA for the decode functions: 1262 vs 188 tokens/s cached, 137 vs 77 uncached (200 tokens,
    # default config, under load; benchmarks/transformer.py gpt_speed measures both)
    jit_compile = True

    def _fn(self, kind, *static):
        """The compiled function ``kind`` for the static arguments (traced once each)."""
        key = (kind, *static)
        if key not in self._fns:
            make = {"prefill": self._prefill, "forward": self._forward,
                    "decode": lambda: self._decode(*static), "sample": lambda: self._sampler(*static)}[kind]
            self._fns[key] = make()
        return self._fns[key]

    def _prefill(self):
        def prefill(window):  # the window at positions 0..T-1 into empty caches
            return self.step(window, self.empty_cache(tf.shape(window)[0]), tf.constant(0))
        return tf.function(prefill, reduce_retracing=True, jit_compile=self.jit_compile)

    def _forward(self):
        return tf.function(lambda t: self(t, training=False)[:, -1], reduce_retracing=True,
                           jit_compile=self.jit_compile)

    def _sampler(self, greedy, top_k):
        return tf.function(lambda logits, temp, seed, t: _sample(logits, greedy, top_k, temp, seed, t))

    def _decode(self, greedy, top_k):
        block = self.config.block_size

        def decode(logits, caches, pos, n, temp, seed, t0):
            """n tokens: the first from ``logits``, each next one from a cached step on the last."""
            tok = _sample(logits, greedy, top_k, temp, seed, t0)
            buf = tf.TensorArray(tf.int32, size=block, clear_after_read=False).write(0, tok)
            for i in tf.range(1, n):
                logits, caches = self.step(tok[:, None], caches, pos + i - 1)
                tok = _sample(logits, greedy, top_k, temp, seed, t0 + i)
                buf = buf.write(i, tok)
            return tf.transpose(buf.stack())  # [B, block]; the first n are the new tokens
        return tf.function(decode, jit_compile=self.jit_compile)

    def get_config(self):
        return {**dataclasses.asdict(self.config), "name": self.name}


def window_start(start, length, block_size, slide):
    """Where the context window of a sequence of ``length`` tokens begins: ``start``
    until the window would exceed ``block_size`` tokens, then ``slide`` tokens later."""
    return start + slide if length - start > block_size else start


def _sample(logits, greedy, top_k, temperature, seed, t):
    """In-graph next token ids ``[B]`` from logits ``[B, V]``: argmax, or a draw seeded by
    ``(seed, t)`` (stateless, so every decoding path draws the same token at step t)."""
    if greedy:
        return tf.argmax(logits, axis=-1, output_type=tf.int32)
    logits = logits / temperature
    if top_k is not None:
        kth = tf.math.top_k(logits, min(top_k, logits.shape[-1])).values[:, -1:]
        logits = tf.where(logits < kth, tf.constant(-np.inf, logits.dtype), logits)
    draw = tf.random.stateless_categorical(logits, 1, seed=tf.stack([seed, t]), dtype=tf.int32)
    return draw[:, 0]


def sample(logits, temperature=1.0, top_k=None, rng=None):
    """Next token ids ``[B]`` from logits ``[B, V]`` (greedy when temperature is 0)."""
    logits = np.asarray(logits, np.float64)
    if temperature == 0:
        return logits.argmax(-1).astype(np.int32)
    logits = logits / temperature
    if top_k is not None:
        kth = np.sort(logits, axis=-1)[:, -min(top_k, logits.shape[-1])][:, None]
        logits = np.where(logits < kth, -np.inf, logits)
    p = np.exp(logits - logits.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    rng = rng or np.random.default_rng()
    return np.array([rng.choice(len(row), p=row) for row in p], np.int32)


def next_token_model(gpt):
    """The edge signature of a GPT: ``tokens [1, block_size]`` (int32, the window,
    padded on the right) and ``position [1]`` (the last real token) -> next-token
    ``logits [1, vocab]``. Builtin-only in TFLite; shares the GPT's weights."""
    block = gpt.config.block_size
    tokens = keras.Input(shape=(block,), dtype="int32", name="tokens")
    position = keras.Input(shape=(), dtype="int32", name="position")
    logits = gpt(tokens)
    pick = tf.one_hot(position, block)[:, None, :]  # [B, 1, T]
    out = tf.reshape(tf.matmul(pick, logits), [-1, gpt.config.vocab_size])
    return keras.Model([tokens, position], layers.Activation("linear", name="logits")(out),
                       name=f"{gpt.name}_next_token")


def edge_generate(edge_model, prompt, max_new_tokens, block_size, temperature=1.0, top_k=None,
                  seed=0, return_logits=False, slide=None):
    """Generate with the :func:`next_token_model` TFLite file through ``tfmodels_edge``.

    numpy only: ``edge_model`` is a ``tfmodels_edge.EdgeModel`` (anything with
    ``run(tokens=..., position=...)``). The window slides like :meth:`GPT.generate`
    (same ``slide``, default ``block_size // 2``), so greedy decoding gives the same
    tokens; sampling draws with numpy. Returns ids ``[T + max_new_tokens]`` (and the
    logits of each step with ``return_logits``).
    """
    idx = [int(i) for i in np.asarray(prompt).ravel()]
    slide = block_size // 2 if slide is None else int(slide)
    rng, all_logits, start = np.random.default_rng(seed), [], max(0, len(idx) - block_size)
    for _ in range(max_new_tokens):
        start = window_start(start, len(idx), block_size, slide)
        window = idx[start:]
        tokens = np.zeros((1, block_size), np.int32)
        tokens[0, :len(window)] = window
        out = edge_model.run(tokens=tokens, position=np.array([len(window) - 1], np.int32))
        logits = next(iter(out.values()))
        all_logits.append(logits[0])
        idx.append(int(sample(logits, temperature, top_k, rng)[0]))
    ids = np.array(idx, np.int32)
    return (ids, all_logits) if return_logits else ids


# -- encoder-decoder -----------------------------------------------------------------


@keras.utils.register_keras_serializable(package="tfmodels")
class Seq2SeqTransformer(keras.Model):
    """Encoder-decoder transformer (Vaswani et al. 2017) with greedy and beam decoding.

    ``call([source, decoder_in])`` -> next-token probabilities ``[B, T, target_vocab]``
    (teacher forcing). Ids: 0 padding, ``start_id`` begins every target,
    ``end_id`` ends it. The decoder runs on a fixed ``target_len`` window, causally
    masked, so decoding reuses one compiled function for every step.
    """

    def __init__(self, vocab_size, source_len, target_len, target_vocab_size=None, num_layers=2,
                 num_heads=4, dim=128, mlp_dim=256, dropout=0.1, norm="pre", positions="sinusoidal",
                 start_id=1, end_id=2, **kwargs):
        super().__init__(**kwargs)
        self.cfg = dict(vocab_size=vocab_size, source_len=source_len, target_len=target_len,
                        target_vocab_size=target_vocab_size, num_layers=num_layers, num_heads=num_heads,
                        dim=dim, mlp_dim=mlp_dim, dropout=dropout, norm=norm, positions=positions,
                        start_id=start_id, end_id=end_id)
        self.target_vocab = target_vocab_size or vocab_size
        self.src_embed = layers.Embedding(vocab_size, dim, embeddings_initializer=_init(), name="source_embedding")
        self.tgt_embed = layers.Embedding(self.target_vocab, dim, embeddings_initializer=_init(), name="target_embedding")
        self.src_pos = PositionEmbedding(source_len, positions, name="source_positions")
        self.tgt_pos = PositionEmbedding(target_len, positions, name="target_positions")
        self.drop = layers.Dropout(dropout)
        self.encoder = [TransformerBlock(num_heads, mlp_dim, dropout, norm, name=f"encoder{i}")
                        for i in range(num_layers)]
        self.decoder = [TransformerBlock(num_heads, mlp_dim, dropout, norm, causal=True, cross_attention=True,
                                         name=f"decoder{i}") for i in range(num_layers)]
        self.ln_enc = layers.LayerNormalization(epsilon=1e-5, name="ln_encoder")
        self.ln_dec = layers.LayerNormalization(epsilon=1e-5, name="ln_decoder")
        self.head = layers.Dense(self.target_vocab, activation="softmax", dtype="float32", name="predictions")
        self._decode_fn = None

    def encode(self, source, training=None):
        mask = padding_mask(source)
        x = self.drop(self.src_pos(self.src_embed(source)), training=training)
        for block in self.encoder:
            x = block(x, mask=mask, training=training)
        return (self.ln_enc(x) if self.cfg["norm"] == "pre" else x), mask

    def decode(self, decoder_in, memory, memory_mask, training=None):
        x = self.drop(self.tgt_pos(self.tgt_embed(decoder_in)), training=training)
        for block in self.decoder:
            x = block(x, context=memory, context_mask=memory_mask, training=training)
        return self.head(self.ln_dec(x) if self.cfg["norm"] == "pre" else x)

    def call(self, inputs, training=None):
        source, decoder_in = inputs
        memory, mask = self.encode(source, training=training)
        return self.decode(decoder_in, memory, mask, training=training)

    def _decoder(self):
        if self._decode_fn is None:
            self._decode_fn = tf.function(lambda d, m, k: self.decode(d, m, k), reduce_retracing=True)
        return self._decode_fn

    def greedy(self, source):
        """Likeliest token at each step: ids ``[B, target_len]`` (0 after ``end_id``)."""
        return self.beam_search(source, beam_width=1)

    def beam_search(self, source, beam_width=4):
        """Keep the ``beam_width`` best partial targets (summed log-probabilities) at each
        step; finished ones (``end_id`` emitted) keep their score. Returns the best
        target per source, ids ``[B, target_len]`` without ``start_id``, 0 after the end."""
        source = np.asarray(source, np.int32)
        n, k, length, end = len(source), beam_width, self.cfg["target_len"], self.cfg["end_id"]
        memory, mask = self.encode(tf.constant(source), training=False)
        memory, mask = tf.repeat(memory, k, axis=0), tf.repeat(mask, k, axis=0)
        seqs = np.zeros((n * k, length + 1), np.int32)
        seqs[:, 0] = self.cfg["start_id"]
        scores = np.tile([0.0] + [-np.inf] * (k - 1), n)  # one live beam at first
        done = np.zeros(n * k, bool)
        step = self._decoder()
        for t in range(length):
            probs = step(tf.constant(seqs[:, :length]), memory, mask)[:, t].numpy()
            logp = np.log(np.maximum(probs, 1e-30))
            logp[done] = -np.inf
            logp[done, 0] = 0.0  # a finished beam only extends with padding, at no cost
            total = (scores[:, None] + logp).reshape(n, k * probs.shape[-1])
            best = np.argsort(-total, axis=1, kind="stable")[:, :k]
            rows = (np.arange(n)[:, None] * k + best // probs.shape[-1]).ravel()
            seqs, done = seqs[rows], done[rows]
            seqs[:, t + 1] = (best % probs.shape[-1]).ravel()
            scores = np.take_along_axis(total, best, 1).ravel()
            done |= seqs[:, t + 1] == end
        top = seqs.reshape(n, k, -1)[:, 0, 1:]  # beams are sorted best first
        out = np.where(np.cumsum(top == end, axis=1) - (top == end) > 0, 0, top)
        return np.where(out == end, 0, out).astype(np.int32)

    def get_config(self):
        return {**self.cfg, "name": self.name}


# -- encoder-only --------------------------------------------------------------------


def encode_tokens(tokens, *, vocab_size, dim, num_layers, num_heads, mlp_dim, dropout, norm,
                  positions, cls=False, prefix=""):
    """Embed token ids (0 = padding) and run an encoder stack; returns (x, key mask)."""
    mask = padding_mask(tokens)
    x = layers.Embedding(vocab_size, dim, embeddings_initializer=_init(), name=f"{prefix}embedding")(tokens)
    if cls:
        x = ClassToken(name=f"{prefix}cls_token")(x)
        mask = tf.concat([tf.ones_like(mask[..., :1]), mask], axis=-1)
    x = PositionEmbedding(x.shape[1], positions, name=f"{prefix}positions")(x)
    x = layers.Dropout(dropout)(x)
    for i in range(num_layers):
        x = TransformerBlock(num_heads, mlp_dim, dropout, norm, name=f"{prefix}block{i}")(x, mask=mask)
    if norm == "pre":
        x = layers.LayerNormalization(epsilon=1e-5, name=f"{prefix}ln_f")(x)
    return x, mask


@register(family="transformer", default_data="sentiment", edge_ready=True)
def transformer_encoder(
    *,
    input_shape=(40,),
    vocab_size: int = 5000,
    num_classes: int = 2,
    include_top: bool = True,
    pooling: str | None = "cls",
    dropout: float = 0.1,
    classifier_activation: str | None = "softmax",
    num_layers: int = 2,
    num_heads: int = 4,
    dim: int = 64,
    mlp_dim: int = 128,
    norm: str = "pre",
    positions: str = "learned",
    name: str = "transformer_encoder",
):
    """Transformer encoder classifier, BERT-like (Devlin et al. 2019; Vaswani et al. 2017).

    Token ids (0 = padding, masked out of attention) -> embedding + positions ->
    ``num_layers`` bidirectional blocks -> [CLS] token (``pooling="cls"``) or masked
    mean over tokens (``"mean"``; ``None`` returns the token sequence) -> head.
    389,890 parameters at the default size.
    """
    if pooling not in ("cls", "mean", None):
        raise ValueError(f"pooling must be 'cls', 'mean' or None, given {pooling!r}")
    if include_top and pooling is None:
        raise ValueError("include_top=True needs pooling='cls' or 'mean'")
    tokens = keras.Input(shape=input_shape, dtype="int32", name="inputs")
    x, mask = encode_tokens(tokens, vocab_size=vocab_size, dim=dim, num_layers=num_layers,
                            num_heads=num_heads, mlp_dim=mlp_dim, dropout=dropout, norm=norm,
                            positions=positions, cls=pooling == "cls")
    if pooling == "cls":
        x = x[:, 0]
    elif pooling == "mean":
        m = tf.cast(mask[:, 0, 0, :, None], x.dtype)  # [B, T, 1]
        x = tf.reduce_sum(x * m, axis=1) / tf.maximum(tf.reduce_sum(m, axis=1), 1.0)
    outputs = classifier_head(x, num_classes=num_classes, include_top=include_top,
                              dropout=dropout, classifier_activation=classifier_activation)
    return keras.Model(tokens, outputs, name=name)


@register(family="transformer", default_data="tiny-shakespeare", edge_ready=True)
def gpt(
    *,
    vocab_size: int = 65,
    block_size: int = 64,
    n_layer: int = 4,
    n_head: int = 4,
    n_embd: int = 128,
    dropout: float = 0.0,
    bias: bool = False,
    input_shape=None,
    name: str = "gpt",
):
    """GPT decoder-only language model (Radford et al. 2019), nanoGPT's layout.

    Defaults are nanoGPT's small CPU config for Tiny Shakespeare characters (4 layers,
    4 heads, 128 dims, context 64, no biases, tied embeddings). Returns a :class:`GPT`
    (``call(tokens) -> logits``, ``generate(prompt, max_new_tokens, temperature, top_k)``).
    ``input_shape``, if given, is ``(block_size,)``. 805,248 parameters at the default size.
    """
    if input_shape is not None:
        block_size = int(input_shape[0])
    model = GPT(vocab_size, block_size, n_layer, n_head, n_embd, dropout, bias, name=name)
    model(tf.zeros((1, block_size), tf.int32))  # create the weights
    return model


@register(family="transformer", trained_with=(
    "tfmodels.train.fit(lambda: tfmodels.build('transformer_seq2seq', vocab_size=tfmodels.data.text.dates_vocab().size), "
    "tfmodels.data.text.dates_splits()[0])"))
def transformer_seq2seq(
    *,
    vocab_size: int = 45,
    source_len: int = 56,
    target_len: int = 11,
    target_vocab_size: int | None = None,
    num_layers: int = 2,
    num_heads: int = 4,
    dim: int = 128,
    mlp_dim: int = 256,
    dropout: float = 0.1,
    norm: str = "pre",
    positions: str = "sinusoidal",
    start_id: int = 1,
    end_id: int = 2,
    input_shape=None,
    name: str = "transformer_seq2seq",
):
    """Encoder-decoder transformer with cross-attention (Vaswani et al. 2017).

    Returns a :class:`Seq2SeqTransformer`: ``call([source, decoder_in])`` for teacher
    forcing, ``greedy(source)`` and ``beam_search(source, beam_width)`` to decode.
    Defaults fit the dates task (``tfmodels.data.text.dates_vocab``, 56 source
    characters, ``<s>`` + 10 target characters). 680,365 parameters at the default size.
    """
    if input_shape is not None:
        source_len = int(input_shape[0])
    model = Seq2SeqTransformer(vocab_size, source_len, target_len, target_vocab_size, num_layers,
                               num_heads, dim, mlp_dim, dropout, norm, positions, start_id, end_id, name=name)
    model([tf.zeros((1, source_len), tf.int32), tf.zeros((1, target_len), tf.int32)])
    return model
