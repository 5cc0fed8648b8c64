"""Quantization-aware training (tensorflow-model-optimization on tf_keras).

    qat = quantize_model(trained_float_model)   # fake-quant int8 wrappers, weights kept
    qat.compile(...); qat.fit(...)              # a few epochs at a low learning rate
    tfmodels.convert.to_tflite(qat, "int8", representative=x_train)

``tfmodels.train.fit(..., qat=True)`` calls :func:`quantize_model` on the freshly built
model. Layers the default 8-bit scheme supports (Conv-BN-ReLU, depthwise, Dense, Add,
Concatenate, pooling, ...) are wrapped; others (training-only augmentation layers, custom
layers) are left as they are, so a model with augmentation in front still trains
quantization-aware.
"""
from tfmodels._keras import keras
from tfmodels.errors import TfmodelsError


def _supported(layer, registry) -> bool:
    return registry.supports(layer) and not isinstance(layer, keras.layers.InputLayer)


def quantize_model(model):
    """Return a copy of ``model`` (same weights) with int8 fake quantization for QAT.

    Raises :class:`TfmodelsError` for models tfmot cannot rewrite (subclassed models,
    nested models): build the model flat (functional) to train it quantization-aware.
    """
    import tensorflow_model_optimization as tfmot
    from tensorflow_model_optimization.python.core.quantization.keras.default_8bit import (
        default_8bit_quantize_registry,
    )

    q = tfmot.quantization.keras
    registry = default_8bit_quantize_registry.Default8BitQuantizeRegistry()
    if not isinstance(model, keras.Model) or not getattr(model, "_is_graph_network", False):
        raise TfmodelsError(f"QAT needs a functional or Sequential keras.Model, given {type(model).__name__}")
    nested = [l.name for l in model.layers if isinstance(l, keras.Model)]
    if nested:
        raise TfmodelsError(f"QAT cannot rewrite nested models ({', '.join(nested)}); build the model flat")

    def annotate(layer):
        clone = layer.__class__.from_config(layer.get_config())
        return q.quantize_annotate_layer(clone) if _supported(layer, registry) else clone

    annotated = keras.models.clone_model(model, clone_function=annotate)
    annotated.set_weights(model.get_weights())
    with q.quantize_scope():
        return q.quantize_apply(annotated)


def quantize_scope():
    """Context in which a saved QAT model reloads: ``with quantize_scope(): load(path)``."""
    import tensorflow_model_optimization as tfmot

    return tfmot.quantization.keras.quantize_scope()
