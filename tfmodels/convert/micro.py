"""Microcontroller target: a Keras model as int8 C source + header for TensorFlow Lite Micro.

    summary = to_micro(model, "firmware/", representative=x_train[:500], name="g_model")

converts to full int8 (int8 in/out, per-tensor dense weights, what TFLM's kernels take),
then writes ``g_model.c`` / ``g_model.h`` (const, 16-byte aligned array + ``g_model_len``)
and ``g_model_ops.h`` (the ``MicroMutableOpResolver`` ``AddXxx()`` calls the model needs)
with :func:`tfmodels_edge.micro.write_c_array`, which works on any .tflite file.
"""
from pathlib import Path

from tfmodels.convert.tflite import to_tflite
from tfmodels.files import atomic_write


def to_micro(model, out_dir, *, representative, name: str = "g_model", input_signature=None,
             representative_samples: int = 500) -> dict:
    """Write the int8 model and its C sources to ``out_dir``; returns the summary
    (files, bytes, resolver methods, unsupported ops, ``tflm_ready``, ``tflite``)."""
    from tfmodels_edge.micro import write_c_array

    flatbuffer = to_tflite(model, "int8", representative=representative, input_signature=input_signature,
                           representative_samples=representative_samples)
    path = atomic_write(Path(out_dir) / f"{name}.tflite", flatbuffer)
    return write_c_array(path, out_dir, name=name) | {"tflite": str(path)}
