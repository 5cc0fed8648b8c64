"""tfmodels_edge: run .tflite models on a device with numpy and LiteRT only (no TensorFlow)."""

from .errors import EdgeError, InputError, InvalidModelError
from .inputs import open_image
from .modelfile import check_tflite, read_model
from .report import device_report, format_device_report
from .runtime import EdgeModel

__all__ = ["EdgeModel", "EdgeError", "InputError", "InvalidModelError", "check_tflite", "read_model",
           "device_report", "format_device_report", "open_image"]
__version__ = "0.1.0"
