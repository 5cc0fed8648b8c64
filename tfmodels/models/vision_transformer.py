"""Images as token sequences: Vision Transformer and MLP-Mixer classifiers."""
from tfmodels._keras import keras, tf
from tfmodels.layers import MLP, ClassToken, PatchEmbedding, PositionEmbedding, TransformerBlock
from tfmodels.models._conv import image_inputs
from tfmodels.models._heads import classifier_head
from tfmodels.registry import register

layers = keras.layers


@keras.utils.register_keras_serializable(package="tfmodels")
class MixerBlock(layers.Layer):
    """Tolstikhin et al. (2021): x += TokenMLP(LN(x)^T)^T (mixes across patches), then
    x += ChannelMLP(LN(x)) (mixes across channels, per patch)."""

    def __init__(self, tokens_mlp_dim, channels_mlp_dim, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.tokens_mlp_dim, self.channels_mlp_dim, self.dropout = tokens_mlp_dim, channels_mlp_dim, dropout
        self.ln1 = layers.LayerNormalization(epsilon=1e-6, name="ln1")
        self.ln2 = layers.LayerNormalization(epsilon=1e-6, name="ln2")
        self.token_mlp = MLP(tokens_mlp_dim, dropout, name="token_mlp")
        self.channel_mlp = MLP(channels_mlp_dim, dropout, name="channel_mlp")

    def call(self, x, training=None):
        y = tf.transpose(self.ln1(x), [0, 2, 1])  # [B, C, N]: the MLP runs over patches
        x = x + tf.transpose(self.token_mlp(y, training=training), [0, 2, 1])
        return x + self.channel_mlp(self.ln2(x), training=training)

    def get_config(self):
        return {**super().get_config(), "tokens_mlp_dim": self.tokens_mlp_dim,
                "channels_mlp_dim": self.channels_mlp_dim, "dropout": self.dropout}


def _pool(x, pooling, include_top):
    """"token": the class token; "avg"/"max": over patches; None: the token sequence."""
    if pooling not in ("token", "avg", "max", None):
        raise ValueError(f"pooling must be 'token', 'avg', 'max' or None, given {pooling!r}")
    if include_top and pooling is None:
        raise ValueError("include_top=True needs a pooling ('token', 'avg' or 'max')")
    if pooling == "token":
        return x[:, 0]
    if pooling == "avg":
        return layers.GlobalAveragePooling1D(name="avg_pool")(x)
    if pooling == "max":
        return layers.GlobalMaxPooling1D(name="max_pool")(x)
    return x


# Adam at 1e-3 decayed by cosine, batches of 64: 40 epochs gave ViT 0.934 and Mixer 0.940
# on USPS (2026-12-02), a trial of the Mixer at 100 epochs 0.948, so both train longer,
# the cheaper Mixer the longest
USPS_SETUP = {"batch_size": 64, "learning_rate": 1e-3, "schedule": "cosine"}


@register(family="transformer", default_data="usps", edge_ready=True, training=USPS_SETUP | {"epochs": 100})
def vit(
    *,
    input_shape=(16, 16, 1),
    num_classes: int = 10,
    include_top: bool = True,
    pooling: str | None = "token",
    dropout: float = 0.1,
    classifier_activation: str | None = "softmax",
    patch_size: int = 4,
    dim: int = 64,
    depth: int = 4,
    num_heads: int = 4,
    mlp_dim: int = 128,
    augment=None,
    name: str = "vit",
):
    """Vision Transformer (Dosovitskiy et al. 2021, "An Image is Worth 16x16 Words").

    Non-overlapping ``patch_size`` patches -> linear embedding -> class token ->
    learned positions -> ``depth`` pre-norm blocks -> LayerNorm -> class token
    (``pooling="token"``) or average over patches -> head. Sized for 16x16 USPS
    digits by default (16 patches of 4x4). 136,906 parameters at the default size.
    ``augment``: training-only augmentation as in the CNN builders (None, a preset name
    or a dict); small ViTs need it more than CNNs do, lacking their built-in priors.
    """
    inputs, x = image_inputs(input_shape, augment)
    x = PatchEmbedding(patch_size, dim, name="patches")(x)
    if pooling == "token":
        x = ClassToken(name="cls_token")(x)
    x = PositionEmbedding(x.shape[1], "learned", name="positions")(x)
    x = layers.Dropout(dropout)(x)
    for i in range(depth):
        x = TransformerBlock(num_heads, mlp_dim, dropout, "pre", name=f"block{i}")(x)
    x = layers.LayerNormalization(epsilon=1e-6, name="ln_f")(x)
    x = _pool(x, pooling, include_top)
    outputs = classifier_head(x, num_classes=num_classes, include_top=include_top,
                              classifier_activation=classifier_activation)
    return keras.Model(inputs, outputs, name=name)


@register(family="transformer", default_data="usps", edge_ready=True, training=USPS_SETUP | {"epochs": 150})
def mlp_mixer(
    *,
    input_shape=(16, 16, 1),
    num_classes: int = 10,
    include_top: bool = True,
    pooling: str | None = "avg",
    dropout: float = 0.0,
    classifier_activation: str | None = "softmax",
    patch_size: int = 4,
    dim: int = 64,
    depth: int = 4,
    tokens_mlp_dim: int = 64,
    channels_mlp_dim: int = 128,
    augment=None,
    name: str = "mlp_mixer",
):
    """MLP-Mixer (Tolstikhin et al. 2021): patches mixed by MLPs only, no attention.

    Patch embedding -> ``depth`` Mixer blocks (token-mixing MLP across patches,
    channel-mixing MLP across features, pre-norm residuals) -> LayerNorm -> average
    over patches -> head. 77,706 parameters at the default size. ``augment`` as in ``vit``.
    """
    inputs, x = image_inputs(input_shape, augment)
    x = PatchEmbedding(patch_size, dim, name="patches")(x)
    for i in range(depth):
        x = MixerBlock(tokens_mlp_dim, channels_mlp_dim, dropout, name=f"mixer{i}")(x)
    x = layers.LayerNormalization(epsilon=1e-6, name="ln_f")(x)
    x = _pool(x, pooling, include_top)
    outputs = classifier_head(x, num_classes=num_classes, include_top=include_top,
                              dropout=dropout, classifier_activation=classifier_activation)
    return keras.Model(inputs, outputs, name=name)
