"""Multilayer perceptrons: the fully connected baseline for any fixed-size input."""
from tfmodels._keras import keras
from tfmodels.models._heads import classifier_head
from tfmodels.registry import register

layers = keras.layers


@register(family="mlp", default_data="digits", edge_ready=True,
          inputs=("images", "feature vectors", "series of feature vectors"),
          tasks=("classification", "regression"))
def mlp(
    *,
    input_shape=(28, 28, 1),
    num_classes: int = 10,
    hidden_units=(256, 128),
    activation: str = "relu",
    dropout: float = 0.0,
    include_top: bool = True,
    classifier_activation: str | None = "softmax",
    input_mean=None,
    input_variance=None,
    target_mean=None,
    target_std=None,
    name: str = "mlp",
):
    """Fully connected classifier: flatten, hidden dense layers, softmax.

    ``activation`` is any Keras activation ("relu", "sigmoid", "tanh", ...); with
    ``hidden_units=()`` this is multinomial logistic regression; ``num_classes=1``
    with ``classifier_activation=None`` is a regressor. ``input_mean`` and
    ``input_variance`` (one per flattened feature; the trainer takes them from a
    table's training split) standardise the inputs inside the model, so a device feeds
    raw values; ``target_mean`` and ``target_std`` put a regressor's outputs in the
    target's units, so it learns a standardised target. Default size on 28x28 inputs:
    235,146 parameters.
    """
    inputs = keras.Input(shape=input_shape, name="inputs")
    x = layers.Flatten(name="flatten")(inputs)
    if input_mean is not None:
        x = layers.Normalization(mean=input_mean, variance=input_variance, name="standardize")(x)
    for i, units in enumerate(hidden_units):
        x = layers.Dense(units, activation=activation, name=f"dense{i + 1}")(x)
        if dropout:
            x = layers.Dropout(dropout, name=f"dropout{i + 1}")(x)
    outputs = classifier_head(
        x, num_classes=num_classes, include_top=include_top,
        classifier_activation=classifier_activation,
    )
    if target_mean is not None:
        outputs = layers.Rescaling(target_std, offset=target_mean, name="target_units")(outputs)
    return keras.Model(inputs, outputs, name=name)
