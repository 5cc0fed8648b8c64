"""The one Keras this package uses: tf_keras (Keras 2.21), never Keras 3.

TF-GNN's GraphTensor only works with Keras 2, so every family shares it. TensorFlow
picks the Keras behind ``tf.keras`` from ``TF_USE_LEGACY_KERAS`` the first time
``tf.keras`` is touched, so this module sets the variable before that happens and
refuses to go on if some earlier import already bound ``tf.keras`` to Keras 3.
"""
import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402

if not tf.keras.__name__.startswith("tf_keras"):
    raise ImportError(
        "tfmodels needs tf_keras (Keras 2) behind tf.keras, but TensorFlow was already "
        f"imported with {tf.keras.__name__} (Keras 3). Import tfmodels before anything "
        "that touches tf.keras, or set the environment variable TF_USE_LEGACY_KERAS=1 "
        "before starting Python."
    )

keras = tf.keras

__all__ = ["tf", "keras"]
