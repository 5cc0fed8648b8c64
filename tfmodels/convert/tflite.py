"""Keras model -> TFLite flatbuffer in one of the quantization modes (see
:mod:`tfmodels.convert.converter`), and the ops a flatbuffer uses."""
from tfmodels.convert.converter import ConversionError, _failed, converter_for
from tfmodels.convert.quantize import SELECTIVE_THRESHOLD, selective


def to_tflite(model, mode: str = "float32", *, representative=None, allow_flex: bool = False,
              input_signature=None, representative_samples: int = 500,
              selective_threshold: float | None = None) -> bytes:
    """Convert ``model`` to a TFLite flatbuffer.

    Args:
      mode: one of ``QUANT_MODES``.
      representative: input arrays from the training split (an array, or a list of
        arrays for several inputs); required for ``int8``, ``int16x8``, ``selective``.
      allow_flex: permit TensorFlow (Flex) ops; off by default because a device
        runtime without the Flex delegate cannot run them.
      input_signature: ``tf.TensorSpec``s; default :func:`default_signature`.
      representative_samples: how many representative inputs calibrate the ranges.
      selective_threshold: ``selective`` only: layers whose int8 RMSE exceeds this many
        quantization steps stay float (default
        :data:`tfmodels.convert.quantize.SELECTIVE_THRESHOLD`).
    """
    kwargs = dict(representative=representative, allow_flex=allow_flex,
                  input_signature=input_signature, representative_samples=representative_samples)
    if mode == "selective":
        threshold = SELECTIVE_THRESHOLD if selective_threshold is None else selective_threshold
        return selective(model, threshold=threshold, **kwargs)[0]
    converter = converter_for(model, mode, **kwargs)
    try:
        return converter.convert()
    except Exception as e:  # the converter raises several unrelated types
        raise _failed(model, mode, allow_flex, e) from e


def tflite_ops(flatbuffer: bytes) -> list[str]:
    """Sorted op names used by a TFLite model; custom ops as ``CUSTOM:<name>``.

    Flex ops show up as ``CUSTOM:Flex<OpName>``.
    """
    from tensorflow.lite.python import schema_py_generated as schema

    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    model = schema.Model.GetRootAsModel(flatbuffer, 0)
    used = set()
    for s in range(model.SubgraphsLength()):
        graph = model.Subgraphs(s)
        for o in range(graph.OperatorsLength()):
            code = model.OperatorCodes(graph.Operators(o).OpcodeIndex())
            builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
            if builtin == schema.BuiltinOperator.CUSTOM:
                used.add(f"CUSTOM:{code.CustomCode().decode()}")
            else:
                used.add(names.get(builtin, str(builtin)))
    return sorted(used)
