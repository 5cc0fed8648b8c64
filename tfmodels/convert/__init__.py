"""Export: Keras/SavedModel -> TFLite (float32, dynamic, float16, int8, int16x8, selective)
with deployment reports, per-layer int8 error, C arrays for TFLite Micro, and ONNX."""
from tfmodels.convert.export import export, parity
from tfmodels.convert.micro import to_micro
from tfmodels.convert.quantize import errors_summary, layer_errors, selective
from tfmodels.convert.report import format_report
from tfmodels.convert.converter import MODES, QUANT_MODES, ConversionError, converter_for, default_signature
from tfmodels.convert.tflite import tflite_ops, to_tflite

__all__ = ["export", "format_report", "parity", "to_tflite", "tflite_ops", "converter_for",
           "default_signature", "MODES", "QUANT_MODES", "ConversionError", "layer_errors",
           "errors_summary", "selective", "to_micro"]
