"""Recurrent networks: SimpleRNN / LSTM / GRU classifiers and regressors, a one-step
forecaster, character language models with a streaming one-step twin for devices, and
an LSTM encoder-decoder with additive (Bahdanau) attention.

    model = tfmodels.build("lstm", input_shape=(40,), vocab_size=5000, num_classes=2)
    lm = tfmodels.build("char_lm", num_classes=66, units=512)
    step = streaming_char_lm(lm)         # (char, states) -> (logits, new states)
    ids = generate_chars(step, prompt_ids, 200, temperature=0.8)  # one compiled call
    s2s = tfmodels.build("seq2seq_lstm"); Seq2SeqDecoder(s2s).greedy(source_ids)
"""
import weakref

import numpy as np

from tfmodels._keras import keras, tf
from tfmodels.errors import UnknownNameError
from tfmodels.layers.additive_attention import AdditiveAttention
from tfmodels.layers.gru import SequenceGRU
from tfmodels.models import beam
from tfmodels.models._heads import classifier_head
from tfmodels.registry import register

layers = keras.layers

# the GRU is Keras' with a faster training pass (same weights and inference)
CELLS = {"simple_rnn": layers.SimpleRNN, "lstm": layers.LSTM, "gru": SequenceGRU}
STEP_CELLS = {"simple_rnn": layers.SimpleRNNCell, "lstm": layers.LSTMCell, "gru": layers.GRUCell}
STATES = {"simple_rnn": ("h",), "lstm": ("h", "c"), "gru": ("h",)}


def _cell(cell: str):
    if cell not in CELLS:
        raise UnknownNameError("recurrent cell", cell, CELLS)
    return CELLS[cell]


def sequence_input(input_shape, vocab_size, embedding_dim, batch_size=None):
    """Token ids ``(T,)`` through an Embedding when ``vocab_size`` is given, else dense
    features ``(T, F)`` as they are. Returns ``(inputs, x)``."""
    input_shape = tuple(input_shape)
    rank = 1 if vocab_size else 2
    if len(input_shape) != rank:
        kind = "token ids (T,) with vocab_size" if vocab_size else "dense features (T, F)"
        raise ValueError(f"input_shape must be {kind}, given {input_shape}")
    inputs = keras.Input(shape=input_shape, batch_size=batch_size, name="inputs",
                         dtype="int32" if vocab_size else "float32")
    x = layers.Embedding(vocab_size, embedding_dim, name="embedding")(inputs) if vocab_size else inputs
    return inputs, x


def recurrent_stack(x, *, cell="lstm", units=64, num_layers=1, bidirectional=False, dropout=0.0,
                    return_sequences=False, unroll=False):
    """``num_layers`` recurrent layers named ``<cell>_<i>``, Dropout between them;
    ``unroll=None`` unrolls when the sequence length of ``x`` is static (the builders'
    default, see :func:`lstm`)."""
    rnn_class = _cell(cell)
    if unroll is None:
        unroll = x.shape[1] is not None
    for i in range(1, num_layers + 1):
        seq = return_sequences or i < num_layers
        rnn = rnn_class(units, return_sequences=seq, unroll=unroll, name=f"{cell}_{i}")
        x = layers.Bidirectional(rnn, name=f"bidirectional_{i}")(x) if bidirectional else rnn(x)
        if dropout and i < num_layers:
            x = layers.Dropout(dropout, name=f"dropout_{i}")(x)
    return x


def _sequence_classifier(cell, *, input_shape, num_classes, vocab_size, embedding_dim, units,
                         num_layers, bidirectional, dropout, include_top, pooling,
                         classifier_activation, batch_size, unroll, name):
    inputs, x = sequence_input(input_shape, vocab_size, embedding_dim, batch_size)
    x = recurrent_stack(x, cell=cell, units=units, num_layers=num_layers, bidirectional=bidirectional,
                        dropout=dropout, return_sequences=pooling is not None, unroll=unroll)
    outputs = classifier_head(x, num_classes=num_classes, include_top=include_top, pooling=pooling,
                              dropout=dropout, classifier_activation=classifier_activation)
    return keras.Model(inputs, outputs, name=name)


_DOC_ARGS = """
    Args:
      input_shape: ``(T,)`` token ids (with ``vocab_size``) or ``(T, F)`` features.
        ``T`` may be None.
      vocab_size: size of the token vocabulary (id 0 = padding); None for dense input.
      num_classes, classifier_activation: the head; ``num_classes=1`` with
        ``classifier_activation=None`` is a regressor.
      pooling: None reads the last step's output; "avg"/"max" pool over all steps.
      bidirectional: wrap each layer in ``Bidirectional`` (concatenated directions).
      batch_size: fix the batch (TFLite conversion fixes it to 1 anyway).
      unroll: unroll the time loop; None (default) unrolls when ``T`` is static, so the
        model converts to TFLite as stateless builtin ops that also quantize to int8
        (training costs ~1.5x per epoch). Not unrolled, an LSTM converts at batch 1 to
        the fused UNIDIRECTIONAL_SEQUENCE_LSTM op, which keeps h and c in variable
        tensors ACROSS invocations: each sequence would start from the previous one's
        final state unless the interpreter calls ``reset_all_variables()`` before it;
        GRU/SimpleRNN become a WHILE loop, which int8 conversion cannot quantize.
        Token ids are right-padded with 0 and not masked: padding steps run through
        the recurrence, identically in Keras and TFLite.
"""


@register(family="rnn", default_data="sentiment")
def simple_rnn(*, input_shape=(40,), num_classes=2, vocab_size=5000, embedding_dim=64, units=64,
               num_layers=1, bidirectional=False, dropout=0.0, include_top=True, pooling=None,
               classifier_activation="softmax", batch_size=None, unroll=None, name="simple_rnn"):
    """Elman recurrent network (Elman 1990): h_t = tanh(W x_t + U h_{t-1} + b), stacked.

    328,386 parameters at the default size (embedding 320,000).
    """
    return _sequence_classifier("simple_rnn", **{k: v for k, v in locals().items()})


@register(family="rnn", default_data="sentiment", edge_ready=True)
def lstm(*, input_shape=(40,), num_classes=2, vocab_size=5000, embedding_dim=64, units=64,
         num_layers=1, bidirectional=False, dropout=0.0, include_top=True, pooling=None,
         classifier_activation="softmax", batch_size=None, unroll=None, name="lstm"):
    """LSTM (Hochreiter & Schmidhuber 1997; forget gate, Gers et al. 2000), stacked.

    353,154 parameters at the default size (embedding 320,000).
    """
    return _sequence_classifier("lstm", **{k: v for k, v in locals().items()})


@register(family="rnn", default_data="sentiment", edge_ready=True)
def gru(*, input_shape=(40,), num_classes=2, vocab_size=5000, embedding_dim=64, units=64,
        num_layers=1, bidirectional=False, dropout=0.0, include_top=True, pooling=None,
        classifier_activation="softmax", batch_size=None, unroll=None, name="gru"):
    """GRU (Cho et al. 2014, reset gate after the matmul as in cuDNN), stacked.

    345,090 parameters at the default size (embedding 320,000).
    """
    return _sequence_classifier("gru", **{k: v for k, v in locals().items()})


for _fn in (simple_rnn, lstm, gru):
    _fn.__doc__ += _DOC_ARGS


@keras.utils.register_keras_serializable(package="tfmodels")
class LastStep(layers.Layer):
    """The last step of sequences ``[B, T, C]``: ``[B, 1, C]`` with ``keepdims``, else
    ``[B, C]``; only the first ``channels`` features when given."""

    def __init__(self, channels: int | None = None, keepdims: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.channels, self.keepdims = channels, keepdims

    def call(self, x):
        x = x[:, -1:] if self.keepdims else x[:, -1]
        return x if self.channels is None else x[..., : self.channels]

    def get_config(self):
        return super().get_config() | {"channels": self.channels, "keepdims": self.keepdims}


# The forecaster's level path (the window's last value, taken off and added back) holds
# absolute values that drift past any range calibrated on the training split (CO2 rises
# out of it): an int8 export keeps those layers in float, the recurrent part in int8.
@register(family="rnn", default_data="co2", edge_ready=True,
          float_layers=("last", "minus_last", "last_level", "forecast"))
def rnn_forecaster(*, input_shape=(24, 1), cell="lstm", units=32, num_layers=1, dropout=0.0,
                   scale=1.0, outputs=1, batch_size=None, unroll=None, name="rnn_forecaster"):
    """One-step forecaster: predicts the change from the window's last value.

    ``y = x_T + scale * f((x - x_T) / scale)`` with ``f`` a recurrent stack and a linear
    layer, so the network models the seasonal change, not the level (which drifts out
    of the training range on trending series such as CO2). Set ``scale`` to the typical
    one-step change of the training data (``tfmodels.data.series.series_stats``).
    ``unroll`` as for :func:`lstm` (None: unrolled, so the TFLite model is stateless).
    4,385 parameters at the default size.
    """
    inputs = keras.Input(shape=input_shape, batch_size=batch_size, name="inputs")
    last = LastStep(keepdims=True, name="last")(inputs)
    x = layers.Rescaling(1.0 / scale, name="scale_in")(layers.Subtract(name="minus_last")([inputs, last]))
    x = recurrent_stack(x, cell=cell, units=units, num_layers=num_layers, dropout=dropout, unroll=unroll)
    delta = layers.Rescaling(scale, name="scale_out")(layers.Dense(outputs, name="delta")(x))
    y = layers.Add(name="forecast")([LastStep(outputs, name="last_level")(inputs), delta])
    return keras.Model(inputs, y, name=name)


# -- character language model and its streaming twin ------------------------------------

@register(family="rnn", default_data="tiny-shakespeare", edge_ready=True)
def char_lm(*, input_shape=(None,), num_classes=66, vocab_size=None, cell="lstm", embedding_dim=64,
            units=512, num_layers=1, dropout=0.0, batch_size=None, unroll=False, name="char_lm"):
    """Character language model (Karpathy's char-rnn; Graves 2013): ids -> next-id logits.

    Embedding -> ``num_layers`` recurrent layers (all steps) -> Dense logits over
    ``num_classes`` characters (``vocab_size`` defaults to the same). Outputs are logits:
    train with ``SparseCategoricalCrossentropy(from_logits=True)``; the loss is in
    nats per character. :func:`streaming_char_lm` makes the one-step model for devices.
    Not unrolled (the default), the whole-sequence model converts at batch 1 to TFLite's
    fused LSTM op, whose state persists across invocations (see :func:`lstm`).
    1,219,778 parameters at the default size.
    """
    inputs, x = sequence_input(input_shape, vocab_size or num_classes, embedding_dim, batch_size)
    x = recurrent_stack(x, cell=cell, units=units, num_layers=num_layers, dropout=dropout,
                        return_sequences=True, unroll=unroll)
    if dropout:
        x = layers.Dropout(dropout, name="top_dropout")(x)
    logits = layers.Dense(num_classes, dtype="float32", name="logits")(x)
    return keras.Model(inputs, logits, name=name)


@register(family="rnn", edge_ready=True,
          trained_with="tfmodels.models.rnn.streaming_char_lm(a_trained_char_lm) (it takes the weights of char_lm)")
def char_lm_step(*, num_classes=66, vocab_size=None, cell="lstm", embedding_dim=64, units=512,
                 num_layers=1, name="char_lm_step"):
    """One step of :func:`char_lm` for streaming generation on a device.

    Inputs ``char`` ``(1,)`` id and the recurrent state of every layer (``h_1``, ``c_1``
    for an LSTM, ...); outputs ``[logits, *new states]`` in that order. Each recurrent
    layer is a single cell call (no loop), so TFLite converts it to builtin matmuls.
    1,219,778 parameters at the default size (the same weights as char_lm).
    """
    _cell(cell)
    char = keras.Input(shape=(1,), name="char", dtype="int32")
    x = layers.Embedding(vocab_size or num_classes, embedding_dim, name="embedding")(char)
    x = layers.Reshape((embedding_dim,), name="squeeze")(x)
    state_inputs, new_states = [], []
    for i in range(1, num_layers + 1):
        states = [keras.Input(shape=(units,), name=f"{s}_{i}") for s in STATES[cell]]
        state_inputs += states
        x, out_states = STEP_CELLS[cell](units, name=f"{cell}_{i}")(x, states)
        new_states += list(out_states) if isinstance(out_states, (list, tuple)) else [out_states]
    logits = layers.Dense(num_classes, dtype="float32", name="logits")(x)
    return keras.Model([char, *state_inputs], [logits, *new_states], name=name)


def _lm_config(lm) -> dict:
    rnns = [l for l in lm.layers if isinstance(l, layers.RNN)]
    if not rnns:
        raise ValueError(f"{lm.name!r} has no recurrent layers; expected a char_lm model")
    cell = next(k for k, c in STEP_CELLS.items() if type(rnns[0].cell) is c)  # also a Keras GRU's saved before
    emb = lm.get_layer("embedding")
    return {"num_classes": lm.get_layer("logits").units, "vocab_size": emb.input_dim,
            "cell": cell, "embedding_dim": emb.output_dim, "units": rnns[0].units,
            "num_layers": len(rnns)}


def streaming_char_lm(lm, name="char_lm_step"):
    """The one-step model of a (trained) :func:`char_lm`, sharing its weights by copy."""
    cfg = _lm_config(lm)
    step = char_lm_step(**cfg, name=name)
    for layer in ("embedding", "logits", *(f"{cfg['cell']}_{i}" for i in range(1, cfg["num_layers"] + 1))):
        step.get_layer(layer).set_weights(lm.get_layer(layer).get_weights())
    return step


def zero_states(step_model, batch: int = 1) -> list[np.ndarray]:
    """Initial (zero) recurrent states for a step model's state inputs."""
    return [np.zeros((batch, *t.shape[1:]), np.float32) for t in step_model.inputs[1:]]


def sample_chars(step_fn, states, prompt_ids, length: int, *, temperature=1.0, seed=0):
    """Generate ``length`` ids after ``prompt_ids`` with a one-step function.

    ``step_fn(char_id [1, 1] int32, states) -> (logits [1, V], new_states)``;
    ``temperature=0`` is greedy. Works with Keras (:func:`keras_step_fn`) or a TFLite
    model through the edge kit (:func:`edge_step_fn`), so both generate the same way.
    """
    rng = np.random.default_rng(seed)
    logits = None
    for c in prompt_ids:
        logits, states = step_fn(np.array([[c]], np.int32), states)
    out = []
    for _ in range(length):
        z = np.asarray(logits, np.float64)[0]
        if temperature <= 0:
            nxt = int(z.argmax())
        else:
            p = np.exp((z - z.max()) / temperature)
            nxt = int(rng.choice(len(p), p=p / p.sum()))
        out.append(nxt)
        logits, states = step_fn(np.array([[nxt]], np.int32), states)
    return out


def graph_function(model, jit_compile: bool = False):
    """``model`` (inference) as one concrete graph function of its input signature, the
    inputs as positional tensors: what decoding loops call per step instead of the
    Keras model, whose eager call spends most of a small step in Python dispatch."""
    specs = [tf.TensorSpec(t.shape, t.dtype) for t in model.inputs]
    return tf.function(lambda *inputs: model(list(inputs) if len(inputs) > 1 else inputs[0], training=False),
                       input_signature=specs, jit_compile=jit_compile, reduce_retracing=True).get_concrete_function()


def keras_step_fn(step_model, jit_compile: bool = True):
    """A step function (see :func:`sample_chars`) over a Keras step model.

    The step runs as one compiled graph function, traced once for the model's input
    signature (XLA-compiled with ``jit_compile``, once per batch size): a Keras call
    per character would spend most of its time in Python and eager dispatch. Measured
    on the benchmark's GRU(512) step at batch 1 (2-core CPU): about 250 tokens/s
    eager, 1,300 as a graph function, 2,200 compiled with XLA.
    """
    fn = graph_function(step_model, jit_compile)

    def step(char, states):
        outs = fn(tf.constant(char, tf.int32), *(tf.constant(s, tf.float32) for s in states))
        return outs[0].numpy(), [o.numpy() for o in outs[1:]]
    return step


_GENERATORS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # step model -> compiled loops


def generate_chars(step_model, prompt_ids, length: int, *, temperature=1.0, seed=0, jit_compile: bool = True):
    """Generate ``length`` ids after ``prompt_ids`` in one compiled call: the prompt fed
    and each id sampled one step at a time inside a ``tf.while_loop``, the recurrent
    state carried from step to step (batch 1), XLA-compiled with ``jit_compile``.

    The fast path to a whole sample; :func:`sample_chars` is the one to stream from (a
    chunk at a time) or to compare with a device. Greedy (``temperature=0``) gives the
    same ids as :func:`sample_chars`; sampled ids come from
    ``tf.random.stateless_categorical`` with ``seed`` (reproducible, but not the
    numpy draws of :func:`sample_chars`, and not the same with and without XLA).
    """
    if not len(prompt_ids):
        raise ValueError("generate_chars needs a prompt of at least one id")
    greedy = temperature <= 0
    fns = _GENERATORS.setdefault(step_model, {})
    key = (greedy, bool(jit_compile), int(length))
    if key not in fns:
        fns[key] = tf.function(_generation_loop(step_model, greedy, int(length)), jit_compile=jit_compile,
                               reduce_retracing=True)
    ids = fns[key](tf.constant(np.asarray(prompt_ids, np.int32)), tf.constant(max(temperature, 1e-6), tf.float32),
                   tf.constant(seed, tf.int32))
    return ids.numpy().tolist()


def _generation_loop(step_model, greedy: bool, length: int):
    def step(char, states):
        out = step_model([tf.reshape(char, [1, 1]), *states], training=False)
        return out[0], list(out[1:])

    def generate(prompt, temperature, seed):
        states = [tf.zeros((1, t.shape[-1]), t.dtype) for t in step_model.inputs[1:]]
        logits = tf.zeros((1, step_model.outputs[0].shape[-1]), step_model.outputs[0].dtype)

        def feed(i, logits, states):
            return (i + 1, *step(prompt[i], states))

        _, logits, states = tf.while_loop(lambda i, *_: i < tf.shape(prompt)[0], feed, [0, logits, states])

        def sample(t, logits, states, ids):
            if greedy:
                nxt = tf.argmax(logits[0], output_type=tf.int32)
            else:
                z = tf.cast(logits, tf.float32) / temperature
                nxt = tf.cast(tf.random.stateless_categorical(z, 1, seed=tf.stack([seed, t]))[0, 0], tf.int32)
            return (t + 1, *step(nxt, states), ids.write(t, nxt))

        ids = tf.TensorArray(tf.int32, size=length)
        *_, ids = tf.while_loop(lambda t, *_: t < length, sample, [0, logits, states, ids])
        return ids.stack()
    return generate


def edge_step_fn(edge_model, step_model):
    """A step function over a TFLite step model run by ``tfmodels_edge.EdgeModel``."""
    names = [t.name.split(":")[0] for t in step_model.inputs]

    def step(char, states):
        out = edge_model.run(**dict(zip(names, [char, *states])))
        ordered = [out[k] for k in sorted(out, key=lambda k: int(k.rsplit("_", 1)[-1]))]
        return ordered[0], ordered[1:]
    return step


# -- encoder-decoder with additive attention -------------------------------------------

@register(family="rnn", trained_with=(
    "tfmodels.train.fit(lambda: tfmodels.build('seq2seq_lstm', source_vocab_size=tfmodels.data.text.dates_vocab().size), "
    "tfmodels.data.text.dates_splits()[0])"))
def seq2seq_lstm(*, source_vocab_size=45, target_vocab_size=None, source_len=None, target_len=None,
                 embedding_dim=32, units=128, attention_units=None, bidirectional_encoder=True,
                 unroll=False, name="seq2seq_lstm"):
    """LSTM encoder-decoder with additive attention (Bahdanau, Cho & Bengio 2014).

    Encoder: Embedding -> (Bi)LSTM over the source (``units`` wide). Decoder: Embedding
    -> LSTM started from the encoder's final state, teacher-forced in training (inputs
    ``[source, decoder_in]``, targets ``decoder_out``, id 0 = padding); each decoder
    output attends over the encoder outputs with v^T tanh(W_q q + W_k k) (padding
    hidden), [output; context] -> Dense tanh -> logits. :class:`Seq2SeqDecoder` runs
    greedy and beam-search decoding. ``unroll=True`` unrolls the encoder and decoder
    loops (needs ``source_len`` and ``target_len``; decoding then reads sources of
    exactly ``source_len`` ids). 206,701 parameters at the default size.
    """
    if unroll and (source_len is None or target_len is None):
        raise ValueError(f"unroll=True needs source_len and target_len, given {source_len}, {target_len}")
    target_vocab_size = target_vocab_size or source_vocab_size
    src = keras.Input(shape=(source_len,), name="source", dtype="int32")
    dec_in = keras.Input(shape=(target_len,), name="decoder_in", dtype="int32")
    x = layers.Embedding(source_vocab_size, embedding_dim, name="source_embedding")(src)
    if bidirectional_encoder:
        rnn = layers.LSTM(units // 2, return_sequences=True, return_state=True, unroll=unroll)
        enc_out, hf, cf, hb, cb = layers.Bidirectional(rnn, name="encoder")(x)
        h = layers.Concatenate(name="encoder_h")([hf, hb])
        c = layers.Concatenate(name="encoder_c")([cf, cb])
    else:
        enc_out, h, c = layers.LSTM(units, return_sequences=True, return_state=True, unroll=unroll,
                                    name="encoder")(x)
    logits = _decode(dec_in, [h, c], enc_out, src, target_vocab_size, embedding_dim, units,
                     attention_units or units, unroll=unroll)[0]
    return keras.Model([src, dec_in], logits, name=name)


def _decode(dec_in, states, enc_out, src, vocab, embedding_dim, units, attention_units, get=None, unroll=False):
    """Decoder layers applied to ``dec_in``; ``get(name)`` reuses a built model's layers."""
    get = get or (lambda n, make: make())
    y = get("target_embedding", lambda: layers.Embedding(vocab, embedding_dim, name="target_embedding"))(dec_in)
    dec_out, h, c = get("decoder", lambda: layers.LSTM(units, return_sequences=True, return_state=True,
                                                        unroll=unroll, name="decoder"))(y, initial_state=states)
    context, _ = get("attention", lambda: AdditiveAttention(attention_units, name="attention"))(dec_out, enc_out, src)
    z = get("combine", lambda: layers.Concatenate(name="combine"))([dec_out, context])
    z = get("attention_out", lambda: layers.Dense(units, activation="tanh", name="attention_out"))(z)
    logits = get("logits", lambda: layers.Dense(vocab, dtype="float32", name="logits"))(z)
    return logits, h, c


class Seq2SeqDecoder:
    """Greedy and beam-search decoding with a trained :func:`seq2seq_lstm` model."""

    def __init__(self, model, start_id=1, end_id=2):
        self.start_id, self.end_id = start_id, end_id
        get = lambda n, make: model.get_layer(n)  # noqa: E731
        # the model's source length: None, or fixed where the encoder is unrolled
        src = keras.Input(shape=model.inputs[0].shape[1:], dtype="int32", name="source")
        x = model.get_layer("source_embedding")(src)
        enc = model.get_layer("encoder")(x)
        if len(enc) == 5:
            enc_out = enc[0]
            h = model.get_layer("encoder_h")([enc[1], enc[3]])
            c = model.get_layer("encoder_c")([enc[2], enc[4]])
        else:
            enc_out, h, c = enc
        self.encoder = keras.Model(src, [enc_out, h, c])
        units = model.get_layer("decoder").units
        tok = keras.Input(shape=(1,), dtype="int32", name="token")
        h_in, c_in = keras.Input(shape=(units,), name="h"), keras.Input(shape=(units,), name="c")
        mem = keras.Input(shape=(None, enc_out.shape[-1]), name="memory")
        src_ids = keras.Input(shape=(None,), dtype="int32", name="source_ids")
        logits, h2, c2 = _decode(tok, [h_in, c_in], mem, src_ids, None, None, None, None, get=get)
        self.step = keras.Model([tok, h_in, c_in, mem, src_ids], [logits[:, 0], h2, c2])
        # one graph function each (lengths and batch free): eager Keras calls per step were
        # most of the decoding time
        self._encode, self._step_fn = graph_function(self.encoder), graph_function(self.step)

    def _encoded(self, src):
        return [t.numpy() for t in self._encode(tf.constant(src, tf.int32))]

    def _step(self, tok, h, c, mem, src):
        logits, h, c = self._step_fn(tf.constant(tok, tf.int32), tf.constant(h, tf.float32), tf.constant(c, tf.float32),
                                     tf.constant(mem, tf.float32), tf.constant(src, tf.int32))
        return tf.nn.log_softmax(logits).numpy(), h.numpy(), c.numpy()

    def greedy(self, source_ids, max_len: int):
        """``(n, max_len)`` ids, each row cut after its end marker (then 0-padded)."""
        src = np.asarray(source_ids, np.int32)
        mem, h, c = self._encoded(src)
        tok = np.full((len(src), 1), self.start_id, np.int32)
        out = np.zeros((len(src), max_len), np.int32)
        done = np.zeros(len(src), bool)
        for t in range(max_len):
            logp, h, c = self._step(tok, h, c, mem, src)
            nxt = np.where(done, 0, logp.argmax(-1))
            out[:, t] = nxt
            done |= nxt == self.end_id
            tok = nxt[:, None].astype(np.int32)
        return out

    def beam_search(self, source_ids, max_len: int, beam_width: int = 4):
        """Best hypothesis per source by total log-probability over ``beam_width`` beams
        (:func:`tfmodels.models.beam.beam_search`: one step call a time step for the
        beams of all sources); ``(n, max_len)`` ids, 0-padded after the end marker."""
        src = np.asarray(source_ids, np.int32)
        mem, h, c = self._encoded(src)

        def step(tokens, states, sources):
            logp, h, c = self._step(tokens[:, None], *states, mem[sources], src[sources])
            return logp, [h, c]
        return beam.beam_search(step, [h, c], max_len, beam_width, self.start_id, self.end_id)
