"""ONNX export through tf2onnx and ONNX Runtime timing, to compare with LiteRT.

    onnx_bytes = to_onnx(model)                     # same batch-1 signature as to_tflite
    session = onnx_session(onnx_bytes, threads=2)
    onnx_benchmark(onnx_bytes, threads=1)           # {"p50_ms", "p90_ms", "p99_ms", ...}

tf2onnx and onnxruntime are optional (the ``bench`` extra); they are imported only here,
on first use, with a clear error when missing. Measured working here: tf2onnx 1.17.0,
onnx 1.23.2, onnxruntime 1.31.1 with TensorFlow 2.21, tf_keras and numpy 2.4.
"""
import time

import numpy as np

from tfmodels._keras import tf
from tfmodels.convert.converter import ConversionError, default_signature

OPSET = 17


def _require(module: str):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError(f"ONNX export needs {module}: pip install 'tfmodels[onnx]' "
                          "(tf2onnx, onnx, onnxruntime)") from None


def to_onnx(model, *, input_signature=None, opset: int = OPSET) -> bytes:
    """Serialized ONNX model of ``model`` called with ``training=False``."""
    tf2onnx = _require("tf2onnx")
    signature = input_signature or default_signature(model)
    if len(signature) == 1:
        fn = tf.function(lambda x: model(x, training=False), input_signature=signature)
    else:
        fn = tf.function(lambda *xs: model(list(xs), training=False), input_signature=signature)
    try:
        proto, _ = tf2onnx.convert.from_function(fn, input_signature=signature, opset=opset)
    except Exception as e:  # tf2onnx raises assorted types
        raise ConversionError(f"ONNX conversion of {model.name!r} failed: {str(e).strip()[:600]}") from e
    return proto.SerializeToString()


def onnx_session(onnx_bytes: bytes, threads: int = 1):
    """An ONNX Runtime CPU session with ``threads`` intra-op threads (one inter-op)."""
    ort = _require("onnxruntime")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(onnx_bytes, options, providers=["CPUExecutionProvider"])


def onnx_predict(session, x) -> np.ndarray:
    """First output for inputs ``x`` (array or list in input order), run sample by sample
    when the model's batch is 1."""
    names = [i.name for i in session.get_inputs()]
    arrays = list(x) if isinstance(x, (list, tuple)) else [x]
    rows = [session.run(None, {n: np.ascontiguousarray(a[i:i + 1]) for n, a in zip(names, arrays)})[0]
            for i in range(len(arrays[0]))]
    return np.concatenate(rows)


def _inputs_for(session, seed: int = 0, feed=None) -> dict:
    rng = np.random.default_rng(seed)
    out = {}
    for i, spec in enumerate(session.get_inputs()):
        shape = [d if isinstance(d, int) and d > 0 else 1 for d in spec.shape]
        if feed is not None:
            out[spec.name] = np.ascontiguousarray(feed[i])
        elif "float" in spec.type:
            out[spec.name] = rng.standard_normal(shape).astype(np.float32)
        else:
            out[spec.name] = np.zeros(shape, np.int32 if "int32" in spec.type else np.int64)
    return out


def onnx_benchmark(onnx_bytes: bytes, *, threads: int = 1, runs: int = 100, warmup: int = 10,
                   inputs=None) -> dict:
    """Latency of ``session.run`` at batch 1 (seeded random inputs unless ``inputs``: one
    batch-1 array per model input)."""
    session = onnx_session(onnx_bytes, threads)
    feed = _inputs_for(session, feed=inputs)
    times = []
    for i in range(warmup + runs):
        start = time.perf_counter()
        session.run(None, feed)
        if i >= warmup:
            times.append((time.perf_counter() - start) * 1e3)
    p50, p90, p99 = np.percentile(times, [50, 90, 99])
    return {"p50_ms": float(p50), "p90_ms": float(p90), "p99_ms": float(p99),
            "mean_ms": float(np.mean(times)), "runs": runs, "threads": threads}
