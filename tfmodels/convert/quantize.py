"""Per-layer int8 quantization error and the ``selective`` mode built on it.

LiteRT's QuantizationDebugger (``tf.lite.experimental``) runs a calibrated model in which
every quantized op's output is compared with the float op run on the *same* (dequantized)
inputs, so each layer's figure is the error that layer adds, not the error accumulated
up to it. The figure used to rank layers is RMSE in quantization steps
(``rmse / scale``): plain rounding gives 1/sqrt(12) ~ 0.29; the TensorFlow guide flags
layers above 0.7 as the ones that lose accuracy.

    errors = layer_errors(model, x_train[:500])
    worst = errors_summary(errors)["worst_layer"]          # e.g. "fc1"
    flatbuffer, info = selective(model, representative=x_train, threshold=0.7)
    info["float_layers"]                                     # layers kept in float
"""
import csv
import io
import math

from tfmodels._keras import tf
from tfmodels.convert.converter import ConversionError, _failed, _representative, converter_for

SELECTIVE_THRESHOLD = 0.7  # rmse / scale, in quantization steps (TensorFlow's guide)
ROUNDING_ONLY = 1 / math.sqrt(12)  # rmse/scale of a layer whose only error is rounding


def _layer_name(tensor_name: str, model_name: str) -> str:
    """'seed_cnn/fc1/MatMul;seed_cnn/fc1/Relu' -> 'fc1' (the Keras layer that made it)."""
    if tensor_name.startswith("StatefulPartitionedCall"):
        return "<model output>"
    parts = tensor_name.split(";")[0].split("/")
    if len(parts) > 2 and parts[0] == model_name:
        return parts[1]
    return parts[1] if len(parts) > 2 else tensor_name


def _names(model, kwargs) -> list:
    from tfmodels.convert.converter import default_signature

    return [spec.name for spec in kwargs.get("input_signature") or default_signature(model)]


def _debugger(model, representative, samples, denylist=(), **kwargs):
    """A debugger over the int8 (float in/out) conversion of ``model``; it calibrates once."""
    converter = converter_for(model, "selective", representative=representative, **kwargs)
    options = tf.lite.experimental.QuantizationDebugOptions(denylisted_nodes=list(denylist)) if denylist else None
    names = _names(model, kwargs)
    arrays = representative if isinstance(representative, (list, tuple)) else [representative]
    order = list(range(len(arrays)))  # the debugger feeds lists by the converted model's input order

    def debug_dataset():
        for sample in _representative([arrays[i] for i in order], samples)():
            yield sample

    try:
        debugger = tf.lite.experimental.QuantizationDebugger(
            converter=converter, debug_dataset=debug_dataset, debug_options=options)
    except Exception as e:  # the converter raises several unrelated types
        raise _failed(model, "int8 (debug)", kwargs.get("allow_flex", False), e) from e
    interpreter = getattr(debugger, "_quant_interpreter", None)
    if len(arrays) > 1 and interpreter is not None:
        tensor_names = [d["name"] for d in interpreter.get_input_details()]
        position = {n: i for i, n in enumerate(names)}
        found = [next((position[n] for n in names if t in (n, f"serving_default_{n}:0")), None)
                 for t in tensor_names]
        if None not in found:
            order[:] = found
    return debugger


def _statistics(debugger, model_name: str) -> list[dict]:
    debugger.run()
    dump = io.StringIO()
    debugger.layer_statistics_dump(dump)
    rows = []
    for r in csv.DictReader(io.StringIO(dump.getvalue())):
        scale, mse = float(r["scale"]), float(r["mean_squared_error"])
        rmse = math.sqrt(mse)
        rows.append({
            "layer": _layer_name(r["tensor_name"], model_name),
            "op": r["op_name"],
            "tensor": r["tensor_name"],
            "elements": int(float(r["num_elements"])),
            "scale": scale,
            "zero_point": int(r["zero_point"]),
            "rmse": rmse,
            "max_abs_error": float(r["max_abs_error"]),
            "mean_error": float(r["mean_error"]),
            "rmse_over_scale": rmse / scale if scale else float("inf"),
        })
    return rows


def layer_errors(model, representative, *, samples: int = 100, representative_samples: int = 500,
                 input_signature=None, allow_flex: bool = False) -> list[dict]:
    """Per-op int8 error of ``model`` in execution order, calibrated on ``representative``.

    Each row: ``layer`` (Keras layer name), ``op``, ``tensor``, ``elements``, ``scale``,
    ``zero_point``, ``rmse``, ``max_abs_error``, ``mean_error``, ``rmse_over_scale``,
    measured on the first ``samples`` representative inputs.
    """
    if representative is None:
        raise ConversionError("per-layer quantization error needs representative inputs")
    debugger = _debugger(model, representative, samples, representative_samples=representative_samples,
                         input_signature=input_signature, allow_flex=allow_flex)
    return _statistics(debugger, model.name)


def errors_summary(errors: list[dict], top: int = 3) -> dict:
    """The layer that loses most (by rmse/scale) and the ``top`` worst rows."""
    ranked = sorted(errors, key=lambda r: -r["rmse_over_scale"])
    return {
        "metric": "rmse / scale (quantization steps; rounding alone gives 0.29)",
        "worst_layer": ranked[0]["layer"] if ranked else None,
        "worst_rmse_over_scale": ranked[0]["rmse_over_scale"] if ranked else None,
        "worst": ranked[:top],
        "layers": len(errors),
    }


def selective(model, *, representative, threshold: float = SELECTIVE_THRESHOLD,
              max_float_layers: int | None = None, samples: int = 100, representative_samples: int = 500,
              input_signature=None, allow_flex: bool = False, errors: list[dict] | None = None,
              keep_float=()) -> tuple[bytes, dict]:
    """int8 everywhere except the layers whose rmse/scale exceeds ``threshold`` and the
    layers named in ``keep_float``.

    Those ops (at most ``max_float_layers`` of the worst, if given) are denylisted and
    run in float between DEQUANTIZE/QUANTIZE pairs. Inputs and outputs stay float32, so
    the model is called like the float one. ``errors`` (from :func:`layer_errors` with
    the same settings) saves measuring them again. Returns the flatbuffer and
    ``{"threshold", "float_layers", "float_tensors", "errors"}``.
    """
    kwargs = dict(representative_samples=representative_samples, input_signature=input_signature,
                  allow_flex=allow_flex)
    if errors is None:
        errors = layer_errors(model, representative, samples=samples, **kwargs)
    over = sorted((r for r in errors if r["rmse_over_scale"] > threshold), key=lambda r: -r["rmse_over_scale"])
    if max_float_layers is not None:
        over = over[:max_float_layers]
    keep = set(keep_float) | ({"<model output>"} if set(keep_float) & set(model.output_names) else set())
    over += [r for r in errors if r["layer"] in keep and r not in over]
    if errors and len(over) == len(errors):
        raise ConversionError(f"every layer of {model.name!r} exceeds rmse/scale {threshold}: nothing would "
                              "stay int8; raise the threshold, cap max_float_layers, or use float16")
    tensors = [r["tensor"] for r in over]
    debugger = _debugger(model, representative, samples, denylist=tensors, **kwargs)
    try:
        flatbuffer = debugger.get_nondebug_quantized_model()
    except Exception as e:
        raise _failed(model, "selective", allow_flex, e) from e
    info = {"threshold": threshold, "float_layers": [r["layer"] for r in over],
            "float_tensors": tensors, "errors": errors}
    return flatbuffer, info
