"""tfmodels_edge: run .tflite models on a device with numpy and LiteRT only (no TensorFlow)."""

from .errors import EdgeError, InputError, InvalidModelError
from .modelfile import check_tflite, read_model
from .report import device_report, format_device_report
from .runtime import EdgeModel

__all__ = ["EdgeModel", "EdgeError", "InputError", "InvalidModelError", "check_tflite", "read_model",
           "device_report", "format_device_report"]
__version__ = "0.1.0"
