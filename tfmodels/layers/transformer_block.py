"""The transformer block: (self-attention, [cross-attention,] GeLU MLP), each residual.

``norm="post"`` is the original (Vaswani et al. 2017): x = LN(x + f(x)).
``norm="pre"`` is the modern form (GPT-2, ViT): x = x + f(LN(x)), which trains
deep stacks without warmup tricks; pre-norm stacks end with a final LayerNorm.
"""
from tfmodels._keras import keras
from tfmodels.layers.attention import MultiHeadAttention

layers = keras.layers

NORMS = ("pre", "post")


@keras.utils.register_keras_serializable(package="tfmodels")
class MLP(layers.Layer):
    """Point-wise feed-forward: Dense(hidden, GeLU) -> Dense(width) -> dropout."""

    def __init__(self, hidden, dropout=0.0, use_bias=True, **kwargs):
        super().__init__(**kwargs)
        self.hidden, self.dropout, self.use_bias = hidden, dropout, use_bias
        self.fc = layers.Dense(hidden, activation="gelu", use_bias=use_bias, name="fc")
        self.drop = layers.Dropout(dropout)

    def build(self, input_shape):
        self.proj = layers.Dense(input_shape[-1], use_bias=self.use_bias, name="proj")
        super().build(input_shape)

    def call(self, x, training=None):
        return self.drop(self.proj(self.fc(x)), training=training)

    def get_config(self):
        return {**super().get_config(), "hidden": self.hidden, "dropout": self.dropout,
                "use_bias": self.use_bias}


@keras.utils.register_keras_serializable(package="tfmodels")
class TransformerBlock(layers.Layer):
    """Self-attention (optionally causal), optional cross-attention, MLP; residuals.

    ``call(x, context=None, mask=None, context_mask=None, cache=None)``: ``context``
    is the encoder output the cross-attention reads (needs ``cross_attention=True``);
    ``cache`` as in :class:`MultiHeadAttention` (then returns ``(x, (k, v))``).
    """

    def __init__(self, num_heads, mlp_dim, dropout=0.0, norm="pre", causal=False,
                 cross_attention=False, use_bias=True, epsilon=1e-5, **kwargs):
        super().__init__(**kwargs)
        if norm not in NORMS:
            raise ValueError(f"norm must be one of {NORMS}, given {norm!r}")
        self.num_heads, self.mlp_dim, self.dropout, self.norm = num_heads, mlp_dim, dropout, norm
        self.causal, self.cross_attention, self.use_bias, self.epsilon = causal, cross_attention, use_bias, epsilon
        self.ln1 = layers.LayerNormalization(epsilon=epsilon, name="ln1")
        self.ln2 = layers.LayerNormalization(epsilon=epsilon, name="ln2")
        self.ln3 = layers.LayerNormalization(epsilon=epsilon, name="ln3") if cross_attention else None
        self.mlp = MLP(mlp_dim, dropout, use_bias, name="mlp")
        self.drop = layers.Dropout(dropout)

    def build(self, input_shape):
        width = input_shape[-1]
        if width % self.num_heads:
            raise ValueError(f"width {width} is not divisible by num_heads={self.num_heads}")
        key_dim = width // self.num_heads
        self.attn = MultiHeadAttention(self.num_heads, key_dim, self.dropout, self.use_bias, name="attn")
        if self.cross_attention:
            self.cross = MultiHeadAttention(self.num_heads, key_dim, self.dropout, self.use_bias, name="cross")
        super().build(input_shape)

    def _residual(self, x, ln, f, training):
        if self.norm == "pre":
            return x + self.drop(f(ln(x)), training=training)
        return ln(x + self.drop(f(x), training=training))

    def call(self, x, context=None, mask=None, context_mask=None, cache=None, training=None):
        new_cache = []

        def self_attn(h):
            out = self.attn(h, mask=mask, causal=self.causal, cache=cache, training=training)
            if cache is None:
                return out
            new_cache.append(out[1])
            return out[0]

        x = self._residual(x, self.ln1, self_attn, training)
        if self.cross_attention:
            if context is None:
                raise ValueError("this block has cross-attention: pass context= (the encoder output)")
            x = self._residual(x, self.ln3, lambda h: self.cross(h, context, mask=context_mask, training=training), training)
        x = self._residual(x, self.ln2, lambda h: self.mlp(h, training=training), training)
        return (x, new_cache[0]) if cache is not None else x

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads, "mlp_dim": self.mlp_dim,
                "dropout": self.dropout, "norm": self.norm, "causal": self.causal,
                "cross_attention": self.cross_attention, "use_bias": self.use_bias,
                "epsilon": self.epsilon}
