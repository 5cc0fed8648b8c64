"""A Keras GRU that trains faster on CPUs: the whole sequence's gradient written by hand.

Keras' GRU (cuDNN's convention, ``reset_after=True``) runs each time step as separate
ops, forward and backward. Its gradient computes every step's input- and recurrent-
weight gradients apart and adds them up step by step (64 weight-sized accumulations
for 64 steps). :class:`SequenceGRU` is the same layer (same weights, config and
inference) whose training pass instead

* projects the inputs of all steps at once (one GEMM, as PyTorch's CPU GRU does),
* runs only the recurrence ``h @ U`` and the gates inside the time loop,
* and in its gradient keeps just the recurrence in the (reversed) loop: the gradients
  of the kernel, the recurrent kernel and the biases come out after it as one GEMM or
  sum each over all steps.

    z = sigmoid(x W_z + b_z + h U_z + c_z)         r likewise
    n = tanh(x W_n + b_n + r * (h U_n + c_n))
    h' = z * h + (1 - z) * n

Measured on the char LM (GRU 512, 64 steps, batch 64, 2-core CPU): see
``charlm_vs_torch`` in benchmarks/results/rnn.json.
"""
from tfmodels._keras import keras, tf

layers = keras.layers


def gru_sequence(x, h0, kernel, recurrent_kernel, bias):
    """All states of a GRU over ``x`` [T, B, F] (time-major) from ``h0`` [B, U]:
    ``[T, B, U]``, with the hand-written gradient described in the module docstring.
    ``bias`` is Keras' ``[2, 3U]`` (input bias, recurrent bias)."""

    @tf.custom_gradient
    def run(x, h0, kernel, recurrent_kernel, bias):
        steps, batch, units = tf.shape(x)[0], tf.shape(x)[1], tf.shape(h0)[-1]
        xp = tf.reshape(tf.matmul(tf.reshape(x, [-1, tf.shape(x)[2]]), kernel) + bias[0], [steps, batch, -1])

        def forward(t, h, states, gates):
            xz, xr, xn = tf.split(xp[t], 3, axis=-1)
            hz, hr, hn = tf.split(tf.matmul(h, recurrent_kernel) + bias[1], 3, axis=-1)
            z, r = tf.sigmoid(xz + hz), tf.sigmoid(xr + hr)
            n = tf.tanh(xn + r * hn)
            h = z * h + (1.0 - z) * n
            return t + 1, h, states.write(t, h), gates.write(t, tf.concat([z, r, n, hn], -1))

        ta = lambda: tf.TensorArray(x.dtype, size=steps)  # noqa: E731
        _, _, states, gates = tf.while_loop(lambda t, *_: t < steps, forward, [0, h0, ta(), ta()])
        states, gates = states.stack(), gates.stack()
        previous = tf.concat([h0[None], states[:-1]], 0)

        def grad(d_states):
            def backward(t, dh, d_pre):
                t = t - 1
                z, r, n, hn = tf.split(gates[t], 4, axis=-1)
                dh = dh + d_states[t]
                dn = dh * (1.0 - z) * (1.0 - n * n)
                dz = dh * (previous[t] - n) * z * (1.0 - z)
                dr = dn * hn * r * (1.0 - r)
                dh = dh * z + tf.matmul(tf.concat([dz, dr, dn * r], -1), recurrent_kernel, transpose_b=True)
                return t, dh, d_pre.write(t, tf.concat([dz, dr, dn], -1))

            _, dh0, d_pre = tf.while_loop(lambda t, *_: t > 0, backward, [steps, tf.zeros_like(h0), ta()])
            dxp = d_pre.stack()  # gradient of the gates' pre-activations from x: [T, B, 3U]
            r = gates[..., units:2 * units]
            dhp = tf.concat([dxp[..., :2 * units], dxp[..., 2 * units:] * r], -1)  # ... from h U + c
            flat = lambda t: tf.reshape(t, [steps * batch, -1])  # noqa: E731
            dx = tf.reshape(tf.matmul(flat(dxp), kernel, transpose_b=True), tf.shape(x))
            d_kernel = tf.matmul(flat(x), flat(dxp), transpose_a=True)
            d_recurrent = tf.matmul(flat(previous), flat(dhp), transpose_a=True)
            d_bias = tf.stack([tf.reduce_sum(dxp, [0, 1]), tf.reduce_sum(dhp, [0, 1])])
            return dx, dh0, d_kernel, d_recurrent, d_bias

        return states, grad

    return run(x, h0, kernel, recurrent_kernel, bias)


@keras.utils.register_keras_serializable(package="tfmodels")
class SequenceGRU(layers.GRU):
    """``keras.layers.GRU`` whose training pass runs :func:`gru_sequence`.

    Everything else is the Keras layer's: weights (``GRUCell`` layout, so a one-step
    ``GRUCell`` takes them as they are), config, inference and TFLite conversion. The
    fast path needs the cuDNN-compatible settings (tanh/sigmoid, ``reset_after``, bias,
    no recurrent dropout, not unrolled) and a plain forward sequence (no mask, input
    dropout, ``go_backwards``, ``time_major`` or ``stateful``); otherwise the layer runs
    as Keras' GRU.
    """

    def _fast(self, mask, training) -> bool:
        return bool(training) and mask is None and self._could_use_gpu_kernel and not (
            self.cell.dropout or self.go_backwards or self.time_major or self.stateful)

    def call(self, inputs, mask=None, training=None, initial_state=None):
        if not self._fast(mask, training) or isinstance(inputs, tf.RaggedTensor):
            return super().call(inputs, mask=mask, training=training, initial_state=initial_state)
        if initial_state is None:
            h0 = tf.zeros([tf.shape(inputs)[0], self.units], inputs.dtype)
        else:
            h0 = initial_state[0] if isinstance(initial_state, (list, tuple)) else initial_state
        cell = self.cell
        states = gru_sequence(tf.transpose(inputs, [1, 0, 2]), h0, cell.kernel, cell.recurrent_kernel, cell.bias)
        last = states[-1]
        output = tf.transpose(states, [1, 0, 2]) if self.return_sequences else last
        return [output, last] if self.return_state else output


def with_keras_gru(model):
    """A copy of ``model`` (same weights) with Keras' own GRU in place of every
    :class:`SequenceGRU`: the baseline that the benchmarks and tests compare it with."""
    def clone(layer):
        cls = layers.GRU if isinstance(layer, SequenceGRU) else layer.__class__
        return cls.from_config(layer.get_config())
    copy = keras.models.clone_model(model, clone_function=clone)
    copy.set_weights(model.get_weights())
    return copy
