"""The one Keras this package uses: tf_keras (Keras 2.21), never Keras 3.

TF-GNN's GraphTensor only works with Keras 2, so every family shares it. TensorFlow
picks the Keras behind ``tf.keras`` from ``TF_USE_LEGACY_KERAS`` the first time
``tf.keras`` is touched, so this module sets the variable before that happens and
refuses to go on if some earlier import already bound ``tf.keras`` to Keras 3.

It also owns the TensorFlow import for a second reason: a quiet start. TensorFlow 2.21's
C++ libraries print their start-up lines (absl's "All log messages before
absl::InitializeLog() is called are written to STDERR", oneDNN's "custom operations
are on", "Could not find cuda drivers", on GPU machines the cuDNN/cuFFT factory
lines) straight to file descriptor 2 while ``import tensorflow`` loads them, twice over
on this build. ``TF_CPP_MIN_LOG_LEVEL`` does not reach them (they are written before
absl's logging is initialised; measured: they show even at level 3). So, unless
``TFMODELS_VERBOSE=1`` (the CLI's ``--verbose`` sets it), file descriptor 2 is pointed
at an anonymous temporary file for the duration of that one import and put back at
once: Python's own warnings and tracebacks from everything after it, and C++ errors
later at run time, still reach the terminal. What the import printed is kept in
:data:`STARTUP_LOG` (``tfmodels --verbose`` shows it) and is written to stderr if the
import fails, so a broken install still says why.

``TF_ENABLE_ONEDNN_OPTS`` is left alone: turning oneDNN off would change the numbers
(and the speed) to silence one line; the line is hidden instead.
``TF_CPP_MIN_LOG_LEVEL`` defaults to 2 (hide C++ INFO and WARNING, keep ERROR).
"""
import os
import sys
import tempfile

#: What TensorFlow's C++ start-up wrote to stderr while it was hidden ("" when verbose).
STARTUP_LOG = ""


def verbose() -> bool:
    """Whether TensorFlow's own output is shown: ``TFMODELS_VERBOSE`` set (and not 0), or
    the ``tfmodels`` command run with its global ``--verbose`` flag.

    The command's flag is read from ``sys.argv`` here because the console script imports
    this package (and so TensorFlow) before its argument parser runs, and TensorFlow
    reads ``TF_CPP_MIN_LOG_LEVEL`` once, at import."""
    if os.environ.get("TFMODELS_VERBOSE", "").strip().lower() not in ("", "0", "false", "no"):
        return True
    argv = sys.argv or [""]
    if os.path.basename(argv[0]) != "tfmodels":
        return False
    for arg in argv[1:]:  # global flags only: those before the subcommand
        if arg == "--verbose":
            return True
        if not arg.startswith("-"):
            return False
    return False


os.environ["TF_USE_LEGACY_KERAS"] = "1"
if not verbose():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _import_tensorflow_quietly():
    """``import tensorflow`` and device discovery with file descriptor 2 sent to a
    temporary file meanwhile."""
    global STARTUP_LOG
    if verbose() or "tensorflow" in sys.modules:
        import tensorflow
        return tensorflow
    try:
        saved = os.dup(2)
    except OSError:  # no stderr at all (a daemon): nothing to hide
        import tensorflow
        return tensorflow
    sink = tempfile.TemporaryFile(mode="w+b")
    failed = False
    sys.stderr.flush()
    os.dup2(sink.fileno(), 2)
    try:
        import tensorflow
        # Device discovery prints its own lines ("failed call to cuInit" on a machine
        # without a GPU) on first use: done here, inside the same window.
        tensorflow.config.list_physical_devices()
    except BaseException:
        failed = True
        raise
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        sink.seek(0)
        STARTUP_LOG = sink.read().decode("utf-8", "replace")
        sink.close()
        if failed and STARTUP_LOG:
            sys.stderr.write(STARTUP_LOG)
    return tensorflow


tf = _import_tensorflow_quietly()

if not tf.keras.__name__.startswith("tf_keras"):
    raise ImportError(
        "tfmodels needs tf_keras (Keras 2) behind tf.keras, but TensorFlow was already "
        f"imported with {tf.keras.__name__} (Keras 3). Import tfmodels before anything "
        "that touches tf.keras, or set the environment variable TF_USE_LEGACY_KERAS=1 "
        "before starting Python."
    )

keras = tf.keras

__all__ = ["tf", "keras", "STARTUP_LOG", "verbose"]
