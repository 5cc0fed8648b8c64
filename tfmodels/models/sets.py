"""DeepSets (Zaheer et al. 2017): f(X) = rho(pool_{x in X} phi(x)), invariant to the order of X.

Inputs: ``elements`` (batch, max_size, *element_shape), zero-padded, and ``element_mask``
(batch, max_size), 1 for real elements, 0 for padding. Padding never reaches the
output: the pooling ignores masked elements, so any permutation of the real
elements, and any content in the padded slots, gives the same result.
"""
from tfmodels._keras import keras, tf
from tfmodels.errors import UnknownNameError
from tfmodels.models._heads import classifier_head
from tfmodels.models.autoencoder import encoder_network
from tfmodels.registry import register

layers = keras.layers
POOLS = ("sum", "mean", "max")


@keras.utils.register_keras_serializable(package="tfmodels")
class MaskedPooling(layers.Layer):
    """Permutation-invariant pooling over axis 1 of ``[features, mask]``."""

    def __init__(self, mode: str = "sum", **kwargs):
        super().__init__(**kwargs)
        if mode not in POOLS:
            raise UnknownNameError("set pooling", mode, POOLS)
        self.mode = mode

    def call(self, inputs):
        h, mask = inputs
        m = tf.cast(mask, h.dtype)[:, :, None]
        if self.mode == "max":  # masked slots pushed far below any real feature
            return tf.reduce_max(h * m + (m - 1.0) * 1e9, axis=1)
        total = tf.reduce_sum(h * m, axis=1)
        if self.mode == "mean":
            return total / tf.maximum(tf.reduce_sum(m, axis=1), 1.0)
        return total

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


@register(family="sets", default_data="digit-sums", edge_ready=True)
def deepsets(*, input_shape=(5, 16, 16, 1), num_classes: int | None = None, num_outputs: int = 1,
             phi_architecture: str = "conv", phi_filters=(16, 32), phi_units=(64,), phi_dim: int = 64,
             pooling: str = "sum", rho_units=(64,), dropout: float = 0.0,
             classifier_activation: str | None = "softmax", name: str = "deepsets"):
    """DeepSets (Zaheer et al. 2017): phi per element, masked sum/mean/max pooling, rho.

    ``input_shape`` is (max_size, *element_shape); image elements get the autoencoders'
    conv encoder as phi ("mlp" for vectors). With ``num_classes`` rho ends in a
    classifier, else in ``num_outputs`` linear outputs (regression, e.g. the sum of
    the digits). 41,857 parameters at the default size.
    """
    max_size, *element_shape = input_shape
    elements = keras.Input(shape=input_shape, name="elements")
    mask = keras.Input(shape=(max_size,), name="element_mask")
    phi = encoder_network(input_shape=tuple(element_shape), latent_dim=phi_dim, architecture=phi_architecture,
                          filters=phi_filters, hidden_units=phi_units, name="phi")
    h = layers.TimeDistributed(phi, name="phi_per_element")(elements)
    h = layers.Activation("relu", name="phi_relu")(h)
    pooled = MaskedPooling(pooling, name=f"{pooling}_pool")([h, mask])
    if num_classes is not None:
        outputs = classifier_head(pooled, num_classes=num_classes, dropout=dropout, hidden_units=rho_units,
                                  classifier_activation=classifier_activation)
    else:
        x = pooled
        for i, units in enumerate(rho_units):
            x = layers.Dense(units, activation="relu", name=f"rho{i + 1}")(x)
        x = layers.Dropout(dropout, name="rho_dropout")(x) if dropout else x
        outputs = layers.Dense(num_outputs, dtype="float32", name="outputs")(x)
    return keras.Model([elements, mask], outputs, name=name)
