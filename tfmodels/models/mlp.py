"""Multilayer perceptrons: the fully connected baseline for any fixed-size input."""
from tfmodels._keras import keras
from tfmodels.models._heads import classifier_head
from tfmodels.registry import register

layers = keras.layers


@register(family="mlp", default_data="digits", edge_ready=True)
def mlp(
    *,
    input_shape=(28, 28, 1),
    num_classes: int = 10,
    hidden_units=(256, 128),
    activation: str = "relu",
    dropout: float = 0.0,
    include_top: bool = True,
    classifier_activation: str | None = "softmax",
    name: str = "mlp",
):
    """Fully connected classifier: flatten, hidden dense layers, softmax.

    ``activation`` is any Keras activation ("relu", "sigmoid", "tanh", ...); with
    ``hidden_units=()`` this is multinomial logistic regression. Default size on
    28x28 inputs: 235,146 parameters.
    """
    inputs = keras.Input(shape=input_shape, name="inputs")
    x = layers.Flatten(name="flatten")(inputs)
    for i, units in enumerate(hidden_units):
        x = layers.Dense(units, activation=activation, name=f"dense{i + 1}")(x)
        if dropout:
            x = layers.Dropout(dropout, name=f"dropout{i + 1}")(x)
    outputs = classifier_head(
        x, num_classes=num_classes, include_top=include_top,
        classifier_activation=classifier_activation,
    )
    return keras.Model(inputs, outputs, name=name)
