"""EdgeModel: run a .tflite model with numpy and LiteRT (or tflite_runtime), never TensorFlow.

Inputs are checked against the model before they reach the interpreter, so a wrong shape
or dtype is an InputError naming what was expected and what was given rather than a
C++ error message. Quantized inputs take float values (quantized with the tensor's own
scale/zero point); quantized outputs come back dequantized to float32. An input whose
TFLite metadata carries ``NormalizationOptions`` (a quantized table model exported by
tfmodels) takes raw values too: they are standardized with its mean and std first.

Non-finite inputs (NaN, ±inf) are refused unless ``allow_nonfinite=True``: an int8 model
would quantize a NaN to some integer and answer with a confident class, a float model
would answer NaN. The file is checked before the interpreter allocates anything
(:func:`tfmodels_edge.modelfile.check_tflite`: indices, constant sizes, and the arena
against ``max_memory_mb``).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InputError, InvalidModelError
from .modelfile import check_tflite, input_normalization, read_model

QUANTIZED_DTYPES = (np.int8, np.uint8, np.int16)


def _interpreter_class() -> type:
    """LiteRT's Interpreter, else tflite_runtime's (older devices)."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        try:
            from tflite_runtime.interpreter import Interpreter
        except ImportError:
            raise ImportError(
                "tfmodels_edge needs a TFLite interpreter: install ai-edge-litert "
                "(pip install 'tfmodels-edge[litert]') or, on older devices, tflite-runtime"
            ) from None
    return Interpreter


class EdgeModel:
    """A loaded .tflite model. Safe to share between threads (invocations are serialized)."""

    def __init__(self, path: str | Path, num_threads: int | None = None, *, allow_nonfinite: bool = False,
                 max_memory_mb: float | None = None):
        self.path = Path(path)
        self._content = read_model(self.path, max_memory_mb)
        self.num_threads = num_threads or 1
        self.allow_nonfinite = allow_nonfinite
        self._interpreter = self._new_interpreter(self.num_threads)
        self._lock = threading.Lock()
        self._runners: dict[str, Any] = {}
        self.input_names = self._input_names()
        self.normalization = self._input_normalization()

    def _new_interpreter(self, num_threads: int) -> Any:
        try:
            interpreter = _interpreter_class()(model_content=self._content, num_threads=num_threads)
            interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as e:
            raise InvalidModelError(f"{self.path}: the interpreter rejected the model: {e}") from None
        return interpreter

    def _input_normalization(self) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """Input tensor index -> (mean, std) from the file's metadata, checked against the
        input's last dimension."""
        try:
            found = input_normalization(self._content)
        except InvalidModelError as e:
            raise InvalidModelError(f"{self.path}: {e}") from None
        shapes = {d["index"]: d["shape"] for d in self.input_details}
        for index, (mean, _) in found.items():
            features = int(shapes[index][-1]) if index in shapes and len(shapes[index]) else -1
            if len(mean) not in (1, features):
                raise InvalidModelError(f"{self.path}: corrupt metadata: input normalization has {len(mean)} "
                                        f"values for {features} features")
        return {i: (np.asarray(m, np.float32), np.asarray(s, np.float32)) for i, (m, s) in found.items()}

    # -- description -----------------------------------------------------------------

    @property
    def input_details(self) -> list[dict]:
        return self._interpreter.get_input_details()

    @property
    def output_details(self) -> list[dict]:
        return self._interpreter.get_output_details()

    @property
    def signatures(self) -> list[str]:
        return list(self._interpreter.get_signature_list())

    @property
    def labels(self) -> list[str] | None:
        """Class names: the ``labels.txt`` beside the model, else the one embedded in its
        TFLite metadata (tfmodels exports both for classifiers), else None."""
        from .inputs import load_labels, parse_labels

        return self._beside_or_embedded("labels.txt", load_labels, parse_labels)

    @property
    def vocabulary(self) -> dict | None:
        """The text vocabulary: ``vocab.json`` beside the model, else the one embedded in
        its metadata (tfmodels exports both for text models), else None."""
        from .inputs import load_vocab, parse_vocab

        return self._beside_or_embedded("vocab.json", load_vocab, parse_vocab)

    def _beside_or_embedded(self, name: str, load: Any, parse: Any) -> Any:
        """``load`` the file ``name`` beside the model, else ``parse`` the bytes embedded in
        its metadata, else None."""
        from .inputs import embedded_file

        path = self.path.parent / name
        if path.exists():
            return load(path)
        data = embedded_file(self._content, name)
        return None if data is None else parse(data, f"{self.path} (embedded {name})")

    @property
    def embedded_files(self) -> dict[str, int]:
        """Files embedded in the model's TFLite metadata (name -> bytes): labels, vocabulary."""
        from .inputs import embedded_files

        return embedded_files(self._content)

    @property
    def size_bytes(self) -> int:
        return len(self._content)

    @property
    def is_quantized(self) -> bool:
        """True when some input is an int8/uint8/int16 quantized tensor."""
        return any(_scale_zero(d) is not None for d in self.input_details)

    def ops(self) -> list[str]:
        """The model's op names in execution order.

        Runtimes without op details get the operator codes read from the file instead.
        "DELEGATE" nodes (XNNPACK taking over part of the graph) are left out: they are the
        runtime's, not the model's.
        """
        if hasattr(self._interpreter, "_get_ops_details"):
            ops = self._interpreter._get_ops_details()
            return [op["op_name"] for op in ops if op["op_name"] != "DELEGATE"]
        return check_tflite(self._content)

    # -- inference -------------------------------------------------------------------

    def predict(self, x: Any) -> np.ndarray | list[np.ndarray]:
        """Run a single-input model on `x`; one array for one output, else a list in output order.

        `x` may have the input's exact shape, lack its batch dimension, or hold N samples:
        run one by one and stacked when the model's batch is fixed at 1, at once (the input
        resized) when it is free.
        """
        if len(self.input_details) != 1:
            names = ", ".join(repr(n) for n in self.input_names)
            raise InputError(f"predict() takes one input but the model has {len(self.input_details)} ({names}); use run()")
        array, batch = self._fit(self.input_details[0], x, self.input_names[0])
        samples = [array] if batch is None else [array[i : i + 1] for i in range(batch)]
        results = [self._invoke(sample) for sample in samples]
        outputs = [np.concatenate(parts) for parts in zip(*results)]
        return outputs[0] if len(outputs) == 1 else outputs

    def _invoke(self, array: np.ndarray) -> list[np.ndarray]:
        """Feed the single input, run, return the (dequantized) outputs; holds the lock throughout.

        Variable tensors are reset first: ops such as the fused LSTM keep their state in
        them across invocations, and each predict() sample must start from zero state.
        """
        with self._lock:
            detail = self._interpreter.get_input_details()[0]  # read here: another call may have resized it
            if tuple(detail["shape"]) != array.shape:  # only for free (-1) dimensions
                self._interpreter.resize_tensor_input(detail["index"], array.shape)
                self._interpreter.allocate_tensors()
            self._interpreter.reset_all_variables()
            self._interpreter.set_tensor(detail["index"], array)
            self._interpreter.invoke()
            return [_dequantize(d, self._interpreter.get_tensor(d["index"])) for d in self.output_details]

    def run(self, signature: str | None = None, **inputs: Any) -> dict[str, np.ndarray]:
        """Run a signature with named inputs; returns its named outputs (dequantized).

        Each input is checked and converted like predict()'s; when the model's batch is 1
        and all inputs carry the same N samples, they are run one by one and stacked.
        """
        runner = self._runner(signature)
        details = runner.get_input_details()
        unknown, missing = sorted(set(inputs) - set(details)), sorted(set(details) - set(inputs))
        if unknown or missing:
            problem = f"unknown input(s) {unknown}" if unknown else f"missing input(s) {missing}"
            raise InputError(f"{problem}; the model's inputs are {sorted(details)}")
        fitted = {name: self._fit(details[name], x, name) for name, x in inputs.items()}
        batches = {batch for _, batch in fitted.values()}
        if len(batches) > 1:
            raise InputError(f"inputs disagree on the batch: {({n: a.shape for n, (a, _) in fitted.items()})}")
        batch = batches.pop()
        feeds = [{n: a for n, (a, _) in fitted.items()}] if batch is None else [
            {n: a[i : i + 1] for n, (a, _) in fitted.items()} for i in range(batch)
        ]
        out_details = runner.get_output_details()
        results = []
        for feed in feeds:
            with self._lock:
                self._interpreter.reset_all_variables()  # each sample starts from zero state, as in _invoke
                results.append(runner(**feed))
        return {
            name: _dequantize(out_details[name], np.concatenate([r[name] for r in results]))
            for name in results[0]
        }

    def _fit(self, detail: dict, x: Any, name: str) -> tuple[np.ndarray, int | None]:
        """:func:`_fit_input`, after refusing non-finite values unless they are allowed."""
        x = np.asarray(x)
        if not self.allow_nonfinite and x.dtype.kind in "fc":
            bad = int(x.size - np.count_nonzero(np.isfinite(x)))
            if bad:
                raise InputError(f"input {name!r} holds {bad} non-finite value(s) (NaN or inf) of {x.size}; "
                                 "the model cannot answer them meaningfully (allow_nonfinite=True, CLI "
                                 "--allow-nonfinite, runs them anyway)")
        return _fit_input(detail, x, name, self.normalization.get(detail["index"]))

    def _runner(self, signature: str | None) -> Any:
        names = self.signatures
        if not names:
            raise InputError("the model has no signatures; use predict()")
        if signature is None:
            if len(names) > 1:
                raise InputError(f"the model has several signatures, pass signature= one of {names}")
            signature = names[0]
        if signature not in names:
            raise InputError(f"unknown signature {signature!r}; the model has {names}")
        if signature not in self._runners:
            self._runners[signature] = self._interpreter.get_signature_runner(signature)
        return self._runners[signature]

    def _input_names(self) -> list[str]:
        """Signature input names where the model has a signature, else tensor names."""
        by_index = {}
        for name in self.signatures:
            for key, detail in self._interpreter.get_signature_runner(name).get_input_details().items():
                by_index.setdefault(detail["index"], key)
        return [by_index.get(d["index"], d["name"]) for d in self.input_details]

    # -- measurement -----------------------------------------------------------------

    def benchmark(self, runs: int = 100, warmup: int = 10, num_threads: int | None = None,
                  inputs: list | None = None) -> dict:
        """Latency of invoke() in a fresh interpreter with `num_threads`.

        Inputs are seeded random values unless `inputs` gives one sample per model input
        (in input order; float values are quantized like predict()'s), so that other
        runtimes can be timed on the very same inputs.
        """
        if runs < 1 or warmup < 0:
            raise ValueError("runs must be >= 1 and warmup >= 0")
        threads = num_threads or self.num_threads
        interpreter = self._new_interpreter(threads)
        rng = np.random.default_rng(0)
        details = interpreter.get_input_details()
        if inputs is not None and len(inputs) != len(details):
            raise InputError(f"benchmark inputs: expected {len(details)} arrays, given {len(inputs)}")
        values = []
        for i, detail in enumerate(details):
            shape = [max(int(n), 1) for n in detail["shape"]]
            if inputs is None:
                values.append(_random_input(rng, detail, shape))
            else:
                value, batch = self._fit(detail, inputs[i], self.input_names[i])
                values.append(value if batch is None else value[:1])
        resized = [d for d, v in zip(details, values) if tuple(d["shape"]) != v.shape]  # free dimensions
        for detail, value in zip(details, values):
            if tuple(detail["shape"]) != value.shape:
                interpreter.resize_tensor_input(detail["index"], value.shape)
        if resized:
            interpreter.allocate_tensors()
        for detail, value in zip(details, values):
            interpreter.set_tensor(detail["index"], value)
        times = []
        for i in range(warmup + runs):
            start = time.perf_counter()
            interpreter.invoke()
            if i >= warmup:
                times.append((time.perf_counter() - start) * 1e3)
        p50, p90, p99 = np.percentile(times, [50, 90, 99])
        return {
            "p50_ms": float(p50), "p90_ms": float(p90), "p99_ms": float(p99),
            "mean_ms": float(np.mean(times)), "runs": runs, "threads": threads,
        }

    def __repr__(self) -> str:
        return f"EdgeModel({str(self.path)!r}, {self.size_bytes} bytes, quantized={self.is_quantized})"


def _scale_zero(detail: dict) -> tuple[float, int] | None:
    """The tensor's (scale, zero_point) if it is an int8/uint8/int16 quantized tensor."""
    scale, zero = detail.get("quantization", (0.0, 0))
    if detail["dtype"] in QUANTIZED_DTYPES and scale:
        return float(scale), int(zero)
    return None


def describe(detail: dict) -> str:
    """'(1, 28, 28, 1) float32' with free dimensions shown as None."""
    shape = tuple(None if n < 0 else int(n) for n in detail.get("shape_signature", detail["shape"]))
    return f"{shape} {np.dtype(detail['dtype']).name}"


def _fit_input(detail: dict, x: Any, name: str, normalization=None) -> tuple[np.ndarray, int | None]:
    """Check x against the input tensor, standardize it with the model's ``(mean, std)``
    if it has one (raw values in; values already of a quantized tensor's dtype are taken
    as fed), and convert it to the tensor's dtype.

    Returns the array and, when it must be fed sample by sample (model batch fixed at 1,
    x holding N samples), N; otherwise None.
    """
    x = np.asarray(x)
    expected = f"expected input {name!r} of shape {describe(detail)}, given {x.shape} {x.dtype}"
    signature = tuple(int(n) for n in detail.get("shape_signature", detail["shape"]))

    def matches(shape: tuple[int, ...]) -> bool:
        return len(shape) == len(signature) and all(s in (-1, n) for s, n in zip(signature, shape))

    batch = None
    if not matches(x.shape):
        if matches((1, *x.shape)):
            x = x[np.newaxis]
        elif signature[:1] == (1,) and x.ndim == len(signature) and matches((1, *x.shape[1:])):
            batch = x.shape[0]
        else:
            raise InputError(expected)
    if normalization is not None and x.dtype.kind in "biuf" and not (
            x.dtype == np.dtype(detail["dtype"]) and _scale_zero(detail) is not None):
        mean, std = normalization
        x = ((x.astype(np.float64) - mean) / std).astype(np.float32)
    return _convert(detail, x, expected), batch


def _convert(detail: dict, x: np.ndarray, expected: str) -> np.ndarray:
    """Cast to the tensor's dtype without losing values.

    For a quantized tensor, an array already of its dtype is taken as quantized values;
    any other numeric array as real values, quantized with the tensor's scale/zero point.
    """
    dtype = np.dtype(detail["dtype"])
    if x.dtype.kind not in "biuf":
        raise InputError(f"{expected}: cannot convert {x.dtype} input")
    quant = _scale_zero(detail)
    if x.dtype == dtype:
        return np.ascontiguousarray(x)
    if quant is not None:
        scale, zero = quant
        info = np.iinfo(dtype)
        return np.clip(np.round(x.astype(np.float64) / scale + zero), info.min, info.max).astype(dtype)
    if dtype.kind == "f":
        return x.astype(dtype)
    if dtype.kind in "iu" and x.dtype.kind in "biu":
        info = np.iinfo(dtype)
        if x.size and (x.min() < info.min or x.max() > info.max):
            raise InputError(f"{expected}: values outside the {dtype.name} range")
        return x.astype(dtype)
    if dtype.kind == "b" and x.dtype.kind == "b":
        return x.astype(dtype)
    raise InputError(f"{expected}: cannot convert {x.dtype} to {dtype.name} without losing values")


def _dequantize(detail: dict, value: np.ndarray) -> np.ndarray:
    quant = _scale_zero(detail)
    if quant is None:
        return value
    scale, zero = quant
    return ((value.astype(np.float32) - zero) * np.float32(scale)).astype(np.float32)


def _random_input(rng: np.random.Generator, detail: dict, shape: list[int]) -> np.ndarray:
    """Seeded inputs for benchmarks: full-range values for quantized and float tensors,
    zeros for plain integer tensors (valid as indices into any embedding or gather)."""
    dtype = np.dtype(detail["dtype"])
    if _scale_zero(detail) is not None:
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max, size=shape, endpoint=True, dtype=dtype)
    if dtype.kind == "f":
        return rng.standard_normal(shape).astype(dtype)
    return np.zeros(shape, dtype)
