"""The classifier head every image builder shares, in the style of keras.applications.

Every builder takes the same keywords (``input_shape``, ``num_classes``,
``include_top``, ``pooling``, ``dropout``, ``classifier_activation``) and ends with
:func:`classifier_head`, so users guess right whichever family they pick.
"""
from tfmodels._keras import keras

layers = keras.layers

POOLINGS = (None, "avg", "max", "flatten")


def classifier_head(
    x,
    *,
    num_classes: int,
    include_top: bool = True,
    pooling: str | None = None,
    dropout: float = 0.0,
    classifier_activation: str | None = "softmax",
    hidden_units=(),
):
    """Pool a feature map, then (with ``include_top``) dense layers to class scores.

    ``pooling`` applies to feature maps (rank > 2): "avg", "max", "flatten" or None;
    with ``include_top`` and no pooling the map is flattened. ``hidden_units`` are
    ReLU dense layers before the classifier. The classifier is float32 so it stays
    numerically safe under mixed precision.
    """
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {POOLINGS}, given {pooling!r}")
    if len(x.shape) > 2:
        if pooling == "avg":
            x = layers.GlobalAveragePooling2D(name="avg_pool")(x) if len(x.shape) == 4 else layers.GlobalAveragePooling1D(name="avg_pool")(x)
        elif pooling == "max":
            x = layers.GlobalMaxPooling2D(name="max_pool")(x) if len(x.shape) == 4 else layers.GlobalMaxPooling1D(name="max_pool")(x)
        elif pooling == "flatten" or include_top:
            x = layers.Flatten(name="flatten")(x)
    if not include_top:
        return x
    for i, units in enumerate(hidden_units):
        x = layers.Dense(units, activation="relu", name=f"fc{i + 1}")(x)
    if dropout:
        x = layers.Dropout(dropout, name="top_dropout")(x)
    return layers.Dense(
        num_classes, activation=classifier_activation, dtype="float32", name="predictions"
    )(x)
