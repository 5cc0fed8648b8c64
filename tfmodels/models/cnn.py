"""Convolutional networks for images."""
from tfmodels._keras import keras
from tfmodels.models._heads import classifier_head
from tfmodels.registry import register

layers = keras.layers


@register(family="cnn", default_data="digits", edge_ready=True)
def seed_cnn(
    *,
    input_shape=(28, 28, 1),
    num_classes: int = 10,
    include_top: bool = True,
    pooling: str | None = None,
    dropout: float = 0.0,
    classifier_activation: str | None = "softmax",
    name: str = "seed_cnn",
):
    """The MNIST CNN the source material specifies, layer for layer.

    28x28x1 -> Conv 6@5x5 valid ReLU (24x24x6) -> Conv 12@5x5 valid ReLU (20x20x12)
    -> MaxPool 2x2 (10x10x12) -> Conv 12@5x5 valid ReLU (6x6x12) -> MaxPool 2x2
    (3x3x12) -> Flatten (108) -> Dense 256 ReLU -> Dense 10 softmax.
    36,054 parameters at the default size.
    """
    inputs = keras.Input(shape=input_shape, name="inputs")
    x = layers.Conv2D(6, 5, activation="relu", name="conv1")(inputs)
    x = layers.Conv2D(12, 5, activation="relu", name="conv2")(x)
    x = layers.MaxPooling2D(2, name="pool1")(x)
    x = layers.Conv2D(12, 5, activation="relu", name="conv3")(x)
    x = layers.MaxPooling2D(2, name="pool2")(x)
    outputs = classifier_head(
        x, num_classes=num_classes, include_top=include_top, pooling=pooling,
        dropout=dropout, classifier_activation=classifier_activation, hidden_units=(256,),
    )
    return keras.Model(inputs, outputs, name=name)
