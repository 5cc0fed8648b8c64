"""A configured ``tf.lite.TFLiteConverter`` for each quantization mode, builtin ops only.

The lowest layer of :mod:`tfmodels.convert`: :mod:`~tfmodels.convert.tflite` converts
with it, :mod:`~tfmodels.convert.quantize` debugs and selectively quantizes with it.
Modes: ``float32``; ``dynamic`` (int8 weights, float activations); ``float16``
(half-precision weights); ``int8`` (full integer: int8 weights, activations, inputs
and outputs, calibrated on a representative sample of training inputs). Beyond these
(``QUANT_MODES``): ``int16x8`` (int16 activations and inputs/outputs, int8 weights:
finer activations for models whose int8 ranges are too coarse, on kernels XNNPACK does
not accelerate) and ``selective`` (int8, except the layers whose int8 error exceeds a
threshold, which stay float; see :mod:`tfmodels.convert.quantize`).

A model trained quantization-aware (``tfmodels.train.qat.quantize_model``) converts in
``int8`` with the ranges its fake-quant layers learned; the representative sample is then
only used for tensors those layers do not cover.
"""
import numpy as np

from tfmodels._keras import tf
from tfmodels.errors import TfmodelsError, UnknownNameError

MODES = ("float32", "dynamic", "float16", "int8")
QUANT_MODES = MODES + ("int16x8", "selective")
CALIBRATED = ("int8", "int16x8", "selective")  # modes that need representative inputs


class ConversionError(TfmodelsError):
    """The converter failed, or the model needs ops outside the builtin set."""


def default_signature(model) -> list:
    """The model's inputs with the batch dimension fixed to 1 (what a device runs).

    A static batch also lets recurrent layers lower to fused builtin ops.
    """
    if not getattr(model, "inputs", None):  # a subclassed model that was never called
        raise ConversionError(f"{model.name} has no symbolic inputs (a subclassed model): pass "
                              "input_signature=[tf.TensorSpec(shape, dtype, name=...), ...]")
    return [tf.TensorSpec((1, *t.shape[1:]), t.dtype, name=t.name.split(":")[0])
            for t in model.inputs]


def _concrete_function(model, input_signature):
    if len(input_signature) == 1:
        fn = tf.function(lambda x: model(x, training=False), input_signature=input_signature)
    else:
        fn = tf.function(lambda *xs: model(list(xs), training=False), input_signature=input_signature)
    return fn.get_concrete_function()


def _representative(samples, limit: int, names=None):
    """Yield batch-1 samples for calibration, one per example: a list for one input, a
    dict by input name for several (the converter matches lists by position, and its
    input order need not be the Keras model's)."""
    arrays = samples if isinstance(samples, (list, tuple)) else [samples]
    n = min(limit, len(arrays[0]))

    def one(a, i):
        a = np.asarray(a[i:i + 1])
        return a.astype(np.float32) if np.issubdtype(a.dtype, np.floating) else a

    def gen():
        for i in range(n):
            if names and len(arrays) > 1:
                yield {name: one(a, i) for name, a in zip(names, arrays)}
            else:
                yield [one(a, i) for a in arrays]

    return gen


def converter_for(model, mode: str, *, representative=None, allow_flex: bool = False,
                  input_signature=None, representative_samples: int = 500):
    """A configured ``tf.lite.TFLiteConverter`` for ``mode`` (``selective``: the int8
    converter before any layer is kept in float). One converter converts once."""
    if mode not in QUANT_MODES:
        raise UnknownNameError("mode", mode, QUANT_MODES)
    if mode in CALIBRATED and representative is None:
        raise ConversionError(f"{mode} conversion needs representative inputs from the training split")
    if representative_samples < 1:
        raise ValueError(f"representative_samples must be >= 1, given {representative_samples}")
    signature = input_signature or default_signature(model)
    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [_concrete_function(model, signature)], model)
    ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if mode != "float32":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if mode == "float16":
        converter.target_spec.supported_types = [tf.float16]
    if mode in CALIBRATED:
        converter.representative_dataset = _representative(representative, representative_samples,
                                                            [spec.name for spec in signature])
    if mode in ("int8", "selective"):
        ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        # Per-tensor dense weights: what TFLite Micro's FULLY_CONNECTED kernels expect,
        # and per-channel parameters (int64 zero points) can outweigh a small model.
        converter._experimental_disable_per_channel_quantization_for_dense_layers = True
    if mode == "int8":
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    if mode == "int16x8":
        ops = [tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
        converter.inference_input_type = tf.int16
        converter.inference_output_type = tf.int16
    if allow_flex:
        ops.append(tf.lite.OpsSet.SELECT_TF_OPS)
    converter.target_spec.supported_ops = ops
    return converter


def _failed(model, mode, allow_flex, e) -> "ConversionError":
    first = str(e).strip().splitlines()
    hint = "" if allow_flex else " (builtin ops only; pass allow_flex=True to permit TensorFlow ops)"
    return ConversionError(f"{mode} conversion of {model.name!r} failed{hint}: "
                           f"{' '.join(first[:3])[:600]}")


