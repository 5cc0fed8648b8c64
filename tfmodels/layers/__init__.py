"""Reusable custom layers; each is Keras-serializable (SavedModels reload without the source)."""
from tfmodels.layers.attention import MultiHeadAttention, causal_mask, padding_mask, scaled_dot_product_attention  # noqa: F401
from tfmodels.layers.patches import ClassToken, PatchEmbedding  # noqa: F401
from tfmodels.layers.positional import PositionEmbedding, sinusoids  # noqa: F401
from tfmodels.layers.transformer_block import MLP, TransformerBlock  # noqa: F401
from tfmodels.layers.additive_attention import AdditiveAttention  # noqa: F401
from tfmodels.layers.augment import RandomShear, augmentation  # noqa: F401
from tfmodels.layers.gru import SequenceGRU, gru_sequence, with_keras_gru  # noqa: F401
