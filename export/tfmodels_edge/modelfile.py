"""Read a .tflite file and bounds-check its flatbuffer before any interpreter sees it.

LiteRT 2.3 runs the flatbuffers verifier itself (measured: a truncated file raises
ValueError "The model is not a valid Flatbuffer buffer"), but its message does not say
what is wrong, and this check does not depend on which runtime is installed (the
tflite_runtime fallback, custom builds). The walk is cheap: it follows every offset of
the Model table (operator codes, subgraphs, tensors, operators, buffers, metadata,
signatures) and checks each lies inside the file, without touching the weights.

Structure alone does not make a file safe to load: one flipped bit in a tensor's shape
is still a valid flatbuffer, and the interpreter then allocates whatever the shape says
(measured: 9.5 GB for 26 s). So the walk also checks what the interpreter would trust:
every tensor, operator and buffer index points at something that exists; a constant
tensor's shape and type describe exactly the bytes its buffer holds; and the tensors the
interpreter must allocate (every non-constant tensor, summed as if none shared memory:
an upper bound of its arena) fit under a memory cap. The cap defaults to
:data:`DEFAULT_MAX_MEMORY_MB`, which a small device can hold; ``max_memory_mb`` or
``$TFMODELS_EDGE_MAX_MEMORY_MB`` raise it for a bigger model.
Schema: tensorflow/compiler/mlir/lite/schema/schema.fbs.
"""

from __future__ import annotations

import math
import os
import struct
from pathlib import Path

from .errors import InvalidModelError

FILE_IDENTIFIER = b"TFL3"
DEFAULT_MAX_MEMORY_MB = 512
MEMORY_ENV = "TFMODELS_EDGE_MAX_MEMORY_MB"
# schema.fbs TensorType -> bytes per element (None: no fixed size: strings, resources, int4)
_ITEMSIZE = {0: 4, 1: 2, 2: 4, 3: 1, 4: 8, 5: None, 6: 1, 7: 2, 8: 8, 9: 1, 10: 8, 11: 16, 12: 8,
             13: None, 14: None, 15: 4, 16: 2, 17: None, 18: 2}


def memory_cap_mb(max_memory_mb: float | None = None) -> float:
    """The cap in MB: the argument, else ``$TFMODELS_EDGE_MAX_MEMORY_MB``, else the default."""
    if max_memory_mb is None:
        raw = os.environ.get(MEMORY_ENV, "").strip()
        try:
            max_memory_mb = float(raw) if raw else DEFAULT_MAX_MEMORY_MB
        except ValueError:
            raise InvalidModelError(f"{MEMORY_ENV} must be a number of MB, given {raw!r}") from None
    if not max_memory_mb > 0:
        raise InvalidModelError(f"the memory cap must be a positive number of MB, given {max_memory_mb}")
    return float(max_memory_mb)


def read_model(path: str | Path, max_memory_mb: float | None = None) -> bytes:
    """Return the bytes of a .tflite file after checking they form a complete model whose
    tensors fit under the memory cap (:func:`memory_cap_mb`)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"model file not found: {path}")
    if not path.is_file():
        raise InvalidModelError(f"{path} is not a file")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InvalidModelError(f"cannot read {path}: {e.strerror or e}") from e
    try:
        check_tflite(data, max_memory_mb)
    except InvalidModelError as e:
        raise InvalidModelError(f"{path}: {e}") from None
    return data


def check_tflite(data: bytes, max_memory_mb: float | None = None) -> list[str]:
    """Raise InvalidModelError unless `data` is a complete TFLite flatbuffer whose indices,
    constant tensors and arena are sound (module docstring).

    Returns the model's operator codes (builtin code numbers or custom names), which is
    what the walk can tell about ops without the schema's name tables.
    """
    cap = memory_cap_mb(max_memory_mb)
    if len(data) == 0:
        raise InvalidModelError("file is empty")
    if len(data) < 8 or data[4:8] != FILE_IDENTIFIER:
        raise InvalidModelError(f"not a TFLite model (no {FILE_IDENTIFIER!r} file identifier at bytes 4-8)")
    r = _Reader(data)
    model = r.table(r.u32(0), "Model table")
    opcodes = []
    for code in r.tables(model, 1, "operator_codes"):
        custom = r.string(code, 1, "custom_code")
        builtin = max(r.scalar(code, 0, "b"), r.scalar(code, 3, "i"))
        opcodes.append(custom if custom is not None else f"builtin:{builtin}")
    subgraphs = r.tables(model, 2, "subgraphs")
    if not subgraphs:
        raise InvalidModelError("model has no subgraphs")
    buffer_sizes = []
    for buffer in r.tables(model, 4, "buffers"):
        inline = r.vector(buffer, 0, 1, "buffer data")[1]
        offset, size = r.scalar(buffer, 1, "Q"), r.scalar(buffer, 2, "Q")
        r.external(offset, size, "buffer")
        buffer_sizes.append(size if offset > 1 else inline)
    arena = sum(_check_subgraph(r, subgraph, len(opcodes), buffer_sizes) for subgraph in subgraphs)
    if arena > cap * 2**20:
        raise InvalidModelError(
            f"the model's tensors need up to {arena / 2**20:,.0f} MB, over the memory cap of {cap:g} MB "
            f"(a corrupt shape, or a model too big for this device: raise the cap with max_memory_mb "
            f"or ${MEMORY_ENV})")
    r.string(model, 3, "description")
    r.vector(model, 5, 4, "metadata_buffer")
    for meta in r.tables(model, 6, "metadata"):
        r.string(meta, 0, "metadata name")
    for sig in r.tables(model, 7, "signature_defs"):
        r.string(sig, 2, "signature_key")
        for tensor_map in r.tables(sig, 0, "signature inputs") + r.tables(sig, 1, "signature outputs"):
            r.string(tensor_map, 0, "signature tensor name")
    return opcodes


METADATA_NAME, METADATA_IDENTIFIER = "TFLITE_METADATA", b"M001"
NORMALIZATION_OPTIONS = 1  # metadata_schema.fbs ProcessUnitOptions


def input_normalization(data: bytes) -> dict[int, tuple[list[float], list[float]]]:
    """The ``NormalizationOptions`` of the inputs in a checked model's TFLite metadata:
    input tensor index -> (mean, std), one value per feature (or one for all); a device
    feeds ``(x - mean) / std``. Empty when the model has no metadata or no such option.
    Schema: tensorflow_lite_support/metadata/metadata_schema.fbs.
    """
    r = _Reader(data)
    model = r.table(r.u32(0), "Model table")
    entry = next((m for m in r.tables(model, 6, "metadata") if r.string(m, 0, "metadata name") == METADATA_NAME), None)
    buffers = r.tables(model, 4, "buffers")
    index = None if entry is None else r.scalar(entry, 1, "I")
    if index is None or index >= len(buffers):
        return {}
    start, length = r.vector(buffers[index], 0, 1, "metadata buffer")
    if length < 8 or data[start + 4 : start + 8] != METADATA_IDENTIFIER:
        return {}
    m = _Reader(data[start : start + length])
    meta = m.table(m.u32(0), "model metadata")
    subgraphs = m.tables(meta, 3, "subgraph metadata")
    if not subgraphs:
        return {}
    inputs = r.ints(r.tables(model, 2, "subgraphs")[0], 1, "subgraph inputs")
    found = {}
    for position, tensor in enumerate(m.tables(subgraphs[0], 2, "input tensor metadata")[: len(inputs)]):
        for unit in m.tables(tensor, 4, "process units"):
            options = m.table_field(unit, 1, "process unit options")
            if m.scalar(unit, 0, "B") != NORMALIZATION_OPTIONS or options is None:
                continue
            mean, std = m.floats(options, 0, "normalization mean"), m.floats(options, 1, "normalization std")
            if not mean or len(mean) != len(std) or not all(math.isfinite(v) for v in mean + std) \
                    or min(std) <= 0:
                raise InvalidModelError(f"corrupt model: input {position}'s normalization (mean {mean[:4]}, "
                                        f"std {std[:4]}) needs as many finite means as positive stds")
            found[inputs[position]] = (mean, std)
    return found


def _check_subgraph(r: _Reader, subgraph: tuple[int, int, int], n_opcodes: int, buffer_sizes: list[int]) -> int:
    """Check one subgraph; return the bytes of its non-constant tensors (its arena's bound)."""
    tensors = r.tables(subgraph, 0, "tensors")
    arena = 0
    for i, tensor in enumerate(tensors):
        shape = r.ints(tensor, 0, "tensor shape")
        r.string(tensor, 3, "tensor name")
        r.vector(tensor, 7, 4, "tensor shape_signature")
        quant = r.table_field(tensor, 4, "tensor quantization")
        if quant is not None:
            for field, size in ((0, 4), (1, 4), (2, 4), (3, 8)):  # min, max, scale, zero_point
                r.vector(quant, field, size, "quantization parameters")
        if any(n < 0 for n in shape):
            raise InvalidModelError(f"corrupt model: tensor {i} has a negative dimension in shape {shape}")
        dtype, buffer = r.scalar(tensor, 1, "b"), r.scalar(tensor, 2, "I")
        if dtype not in _ITEMSIZE:
            raise InvalidModelError(f"corrupt model: tensor {i} has unknown type {dtype}")
        if buffer >= len(buffer_sizes):
            raise InvalidModelError(f"corrupt model: tensor {i} refers to buffer {buffer} of {len(buffer_sizes)}")
        itemsize, stored = _ITEMSIZE[dtype], buffer_sizes[buffer] if buffer else 0
        size = math.prod(shape) * (itemsize or 1)
        if stored:  # a constant: its bytes are in the file, and must be exactly what the shape says
            sparse = r.field(tensor, 6) is not None  # a sparse constant stores fewer bytes
            if itemsize is not None and not sparse and size != stored:
                raise InvalidModelError(f"corrupt model: constant tensor {i} of shape {shape} needs {size} bytes, "
                                        f"its buffer holds {stored}")
        else:
            arena += size
    n_tensors = len(tensors)

    def check_indices(values: list[int], what: str, optional: bool = False) -> None:
        for v in values:
            if not (0 <= v < n_tensors or (optional and v == -1)):
                raise InvalidModelError(f"corrupt model: {what} refers to tensor {v} of {n_tensors}")

    check_indices(r.ints(subgraph, 1, "subgraph inputs"), "a subgraph input")
    check_indices(r.ints(subgraph, 2, "subgraph outputs"), "a subgraph output")
    for op in r.tables(subgraph, 3, "operators"):
        if r.scalar(op, 0, "I") >= n_opcodes:
            raise InvalidModelError(f"corrupt model: an operator refers to operator code "
                                    f"{r.scalar(op, 0, 'I')} of {n_opcodes}")
        for field in (1, 2, 8):  # inputs, outputs, intermediates (-1: an omitted optional input)
            check_indices(r.ints(op, field, "operator tensors"), "an operator", optional=True)
        r.table_field(op, 4, "builtin_options")
        r.vector(op, 5, 1, "custom_options")
        r.external(r.scalar(op, 9, "Q"), r.scalar(op, 10, "Q"), "large custom options")
    r.string(subgraph, 4, "subgraph name")
    return arena


class _Reader:
    """Little-endian flatbuffer access where every read is bounds-checked.

    A table is (position, vtable position, vtable size in bytes).
    """

    def __init__(self, data: bytes):
        self.data = data
        self.size = len(data)

    def need(self, pos: int, length: int, what: str) -> None:
        if pos < 0 or pos + length > self.size:
            raise InvalidModelError(
                f"truncated or corrupt model: {what} at byte {pos} (+{length}) lies outside "
                f"the {self.size}-byte file"
            )

    def unpack(self, fmt: str, pos: int, what: str = "offset") -> int:
        self.need(pos, struct.calcsize(fmt), what)
        return struct.unpack_from("<" + fmt, self.data, pos)[0]

    def u32(self, pos: int) -> int:
        return self.unpack("I", pos)

    def table(self, pos: int, what: str) -> tuple[int, int, int]:
        vtable = pos - self.unpack("i", pos, what)
        vsize, tsize = self.unpack("H", vtable, what + " vtable"), self.unpack("H", vtable + 2, what + " vtable")
        if vsize < 4 or vsize % 2:
            raise InvalidModelError(f"truncated or corrupt model: {what} has a malformed vtable")
        self.need(vtable, vsize, what + " vtable")
        self.need(pos, tsize, what)
        return pos, vtable, vsize

    def field(self, table: tuple[int, int, int], index: int) -> int | None:
        """Absolute position of a field's value, or None when the field is absent."""
        pos, vtable, vsize = table
        slot = 4 + 2 * index
        if slot >= vsize:
            return None
        offset = self.unpack("H", vtable + slot)
        return pos + offset if offset else None

    def scalar(self, table: tuple[int, int, int], index: int, fmt: str) -> int:
        pos = self.field(table, index)
        return 0 if pos is None else self.unpack(fmt, pos)

    def ref(self, table: tuple[int, int, int], index: int, what: str) -> int | None:
        pos = self.field(table, index)
        return None if pos is None else pos + self.unpack("I", pos, what)

    def vector(self, table: tuple[int, int, int], index: int, elem_size: int, what: str) -> tuple[int, int]:
        """(start, length) of a vector field, (0, 0) when absent; checks all elements fit."""
        pos = self.ref(table, index, what)
        if pos is None:
            return 0, 0
        length = self.unpack("I", pos, what + " length")
        self.need(pos + 4, length * elem_size, what)
        return pos + 4, length

    def ints(self, table: tuple[int, int, int], index: int, what: str) -> list[int]:
        """An int32 vector field as a list ([] when absent)."""
        start, length = self.vector(table, index, 4, what)
        return list(struct.unpack_from(f"<{length}i", self.data, start)) if length else []

    def floats(self, table: tuple[int, int, int], index: int, what: str) -> list[float]:
        """A float32 vector field as a list ([] when absent)."""
        start, length = self.vector(table, index, 4, what)
        return list(struct.unpack_from(f"<{length}f", self.data, start)) if length else []

    def tables(self, table: tuple[int, int, int], index: int, what: str) -> list[tuple[int, int, int]]:
        start, length = self.vector(table, index, 4, what)
        return [self.table(start + 4 * i + self.u32(start + 4 * i), what) for i in range(length)]

    def table_field(self, table: tuple[int, int, int], index: int, what: str) -> tuple[int, int, int] | None:
        pos = self.ref(table, index, what)
        return None if pos is None else self.table(pos, what)

    def string(self, table: tuple[int, int, int], index: int, what: str) -> str | None:
        start = self.ref(table, index, what)
        if start is None:
            return None
        length = self.unpack("I", start, what)
        self.need(start + 4, length + 1, what)  # + the terminating NUL
        return self.data[start + 4 : start + 4 + length].decode("utf-8", "replace")

    def external(self, offset: int, size: int, what: str) -> None:
        """Data stored after the flatbuffer (models over 2 GB): offsets 0 and 1 mean 'inline'."""
        if offset > 1:
            self.need(offset, size, what + " data")
