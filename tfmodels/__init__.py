"""tfmodels: classic deep-learning models on TensorFlow, from training to the edge.

    import tfmodels
    model = tfmodels.build("seed_cnn")
    tfmodels.list_models(family="cnn")

Importing this package selects tf_keras (Keras 2) behind ``tf.keras``; see
:mod:`tfmodels._keras`. ``tfmodels.keras`` is that Keras (the one every model here is
built with, the one TF-GNN needs): write custom callbacks and layers against it.
"""
from tfmodels import _keras  # noqa: F401  (must run before anything touches tf.keras)
from tfmodels._keras import keras
from tfmodels.errors import DataError, TfmodelsError, UnknownNameError
from tfmodels.registry import ModelSpec, build, get_spec, list_models, register
from tfmodels.transfer import transfer  # noqa: E402  (the function shadows the module name)

__version__ = "0.1.0"

__all__ = [
    "keras", "build", "list_models", "get_spec", "register", "ModelSpec",
    "TfmodelsError", "UnknownNameError", "DataError", "__version__",
]
