"""Exceptions a user can cause; the CLI prints them as one line without a traceback."""


class EdgeError(Exception):
    """Base class for tfmodels_edge errors."""


class InvalidModelError(EdgeError, ValueError):
    """The file is not a complete, well-formed .tflite model."""


class InputError(EdgeError, ValueError):
    """An input does not fit the model: wrong name, shape or dtype."""
