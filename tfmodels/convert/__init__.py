"""Export: Keras/SavedModel -> TFLite (float32, dynamic, float16, int8) with parity reports."""
from tfmodels.convert.export import export, format_report, parity
from tfmodels.convert.tflite import MODES, ConversionError, default_signature, tflite_ops, to_tflite

__all__ = ["export", "format_report", "parity", "to_tflite", "tflite_ops",
           "default_signature", "MODES", "ConversionError"]
