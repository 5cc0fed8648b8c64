"""Transfer learning: reuse a trained model's convolutional base under a new head.

    model = tfmodels.transfer("runs/resnet/saved_model", num_classes=10)  # base frozen
    model.compile(...); model.fit(few_labels)                            # train the head
    fine_tune(model, top_layers=6)                                        # unfreeze the top
    model.compile(optimizer=Adam(1e-4), ...); model.fit(few_labels)      # lower rate

The base is everything before the backbone's classifier head (the layers
:func:`tfmodels.models._heads.classifier_head` adds: pooling/flatten, ``fc*``,
``top_dropout``, ``predictions``). It runs in inference mode (``training=False``), so
its BatchNorm statistics stay those learnt on the source data even while fine-tuning.
"""
import re
from pathlib import Path

from tfmodels._keras import keras
from tfmodels.models._heads import classifier_head

HEAD_LAYER = re.compile(r"^(avg_pool|max_pool|flatten|fc\d+|top_dropout|predictions)$")
BASE_NAME = "base"


def convolutional_base(backbone) -> "keras.Model":
    """The backbone up to (not including) its classifier head, as its own model."""
    if isinstance(backbone, (str, Path)):
        from tfmodels.train import load

        backbone = load(backbone)
    if not isinstance(backbone, keras.Model):
        raise TypeError(f"backbone must be a keras.Model or a SavedModel directory, given {type(backbone).__name__}")
    body = [l for l in backbone.layers if not HEAD_LAYER.match(l.name)]
    if len(body) == len(backbone.layers):
        return keras.Model(backbone.inputs, backbone.outputs, name=BASE_NAME)  # already headless
    last = body[-1]
    if last is backbone.layers[0]:
        raise ValueError(f"{backbone.name!r} has no layers before its head to reuse")
    return keras.Model(backbone.inputs, last.output, name=BASE_NAME)


def transfer(backbone, num_classes: int, *, trainable=False, input_shape=None, pooling="avg",
             dropout=0.0, hidden_units=(), classifier_activation="softmax", name="transfer"):
    """A new classifier on ``backbone``'s convolutional base.

    Args:
      backbone: a trained ``keras.Model`` or the path of a SavedModel (``tfmodels.train.save``).
      num_classes: classes of the new task.
      trainable: False (freeze the base: train the head only), True (train everything)
        or an int N (fine-tune only the top N weighted layers of the base).
      input_shape: the new task's input shape when it differs from the backbone's;
        images are resized to the backbone's size (channels must match).
      pooling: how the base's feature map becomes a vector ("avg", "max", "flatten").
    """
    base = convolutional_base(backbone)
    base_shape = tuple(base.input_shape[1:])
    input_shape = tuple(input_shape or base_shape)
    if input_shape[-1] != base_shape[-1]:
        raise ValueError(f"the backbone takes {base_shape[-1]} channel(s), given input_shape {input_shape}")
    inputs = keras.Input(shape=input_shape, name="inputs")
    x = inputs
    if input_shape[:2] != base_shape[:2]:
        x = keras.layers.Resizing(*base_shape[:2], name="resize")(x)
    x = base(x, training=False)
    outputs = classifier_head(x, num_classes=num_classes, pooling=pooling, dropout=dropout,
                              hidden_units=hidden_units, classifier_activation=classifier_activation)
    model = keras.Model(inputs, outputs, name=name)
    fine_tune(model, top_layers=trainable)
    return model


def fine_tune(model, top_layers=True) -> int:
    """Set which base layers of a :func:`transfer` model train; returns how many do.

    ``top_layers``: True (all), False (none) or N (the top N convolution/dense layers;
    BatchNorm layers stay frozen, as Keras' fine-tuning guide advises). Recompile
    afterwards, with a lower learning rate, for the change to take effect.
    """
    base = model.get_layer(BASE_NAME)
    weighted = [l for l in base.layers
                if l.weights and not isinstance(l, keras.layers.BatchNormalization)]
    if top_layers is True or top_layers is False:
        base.trainable = bool(top_layers)
        return len(weighted) if top_layers else 0
    if not isinstance(top_layers, int) or top_layers < 0:
        raise ValueError(f"top_layers must be True, False or a non-negative int, given {top_layers!r}")
    base.trainable = True
    chosen = weighted[len(weighted) - top_layers:] if top_layers else []
    for layer in base.layers:
        layer.trainable = layer in chosen
    return len(chosen)
