"""What a device needs to know about a .tflite file, read from the file alone.

    report = device_report("model_int8.tflite", latency_runs=50)
    print(format_device_report(report))

Ops (builtin, custom or Flex), inputs and outputs with dtypes and quantization
parameters, flash (file size, constant weight bytes) and RAM. RAM is estimated two ways
from the tensors the model does not store (activations, inputs, outputs, variables):

- ``activations_total_bytes``: their plain sum, the arena with no memory reuse at all;
- ``arena_peak_bytes``: liveness-based: ops run in file order, a tensor is live from the
  op that writes it (model inputs and variables: from the start) to the last op that
  reads it (model outputs and variables: to the end), and the peak over ops of the live
  bytes is taken, plus the peak of the largest other subgraph (WHILE / IF bodies). It is
  what an ideal planner such as TFLite Micro's would need for tensors; kernels' scratch
  buffers and the interpreter's own structures come on top (a few kB on TFLM).

Free (-1) dimensions count as 1 (batch 1). The file is parsed with the same
bounds-checked flatbuffer reader as :func:`~tfmodels_edge.check_tflite`.
"""

from __future__ import annotations

import math
import struct
from pathlib import Path

from .modelfile import _Reader, check_tflite, read_model

# schema.fbs TensorType -> (name, bytes per element); strings/resources count as 0.
TENSOR_TYPES = {
    0: ("float32", 4), 1: ("float16", 2), 2: ("int32", 4), 3: ("uint8", 1), 4: ("int64", 8),
    5: ("string", 0), 6: ("bool", 1), 7: ("int16", 2), 8: ("complex64", 8), 9: ("int8", 1),
    10: ("float64", 8), 11: ("complex128", 16), 12: ("uint64", 8), 13: ("resource", 0),
    14: ("variant", 0), 15: ("uint32", 4), 16: ("uint16", 2), 17: ("int4", 0.5), 18: ("bfloat16", 2),
}


def _builtin_names() -> dict[int, str]:
    """Builtin op code -> name, from the schema that ships with LiteRT (no TensorFlow)."""
    try:
        from ai_edge_litert.schema_py_generated import BuiltinOperator
    except ImportError:
        return {}
    return {v: k for k, v in vars(BuiltinOperator).items() if not k.startswith("_")}


def _ints(r: _Reader, table, index: int, fmt: str = "i") -> list:
    start, length = r.vector(table, index, struct.calcsize(fmt), "vector")
    return list(struct.unpack_from(f"<{length}{fmt}", r.data, start)) if length else []


def parse(data: bytes) -> dict:
    """The model's op codes, buffers' sizes and every subgraph's tensors and operators."""
    check_tflite(data)
    names = _builtin_names()
    r = _Reader(data)
    model = r.table(r.u32(0), "Model table")
    codes = []
    for code in r.tables(model, 1, "operator_codes"):
        custom = r.string(code, 1, "custom_code")
        builtin = max(r.scalar(code, 0, "b"), r.scalar(code, 3, "i"))
        if custom is not None:
            codes.append(f"CUSTOM:{custom}")
        else:
            codes.append(names.get(builtin, f"BUILTIN_{builtin}"))
    buffers = []
    for buf in r.tables(model, 4, "buffers"):
        _, length = r.vector(buf, 0, 1, "buffer data")
        buffers.append(length or r.scalar(buf, 2, "Q"))
    subgraphs = []
    for sg in r.tables(model, 2, "subgraphs"):
        tensors = []
        for t in r.tables(sg, 0, "tensors"):
            quant = r.table_field(t, 4, "tensor quantization")
            scales = [] if quant is None else _ints(r, quant, 2, "f")
            zeros = [] if quant is None else _ints(r, quant, 3, "q")
            tensors.append({
                "name": r.string(t, 3, "tensor name") or "",
                "shape": _ints(r, t, 0), "shape_signature": _ints(r, t, 7),
                "type": r.scalar(t, 1, "b"), "buffer": r.scalar(t, 2, "I"),
                "variable": bool(r.scalar(t, 5, "B")),
                "scale": scales, "zero_point": zeros,
                "quantized_dimension": 0 if quant is None else r.scalar(quant, 6, "i"),
            })
        ops = [{"code": r.scalar(op, 0, "I"), "inputs": _ints(r, op, 1), "outputs": _ints(r, op, 2),
                "intermediates": _ints(r, op, 8)} for op in r.tables(sg, 3, "operators")]
        subgraphs.append({"name": r.string(sg, 4, "subgraph name") or "", "tensors": tensors,
                          "inputs": _ints(r, sg, 1), "outputs": _ints(r, sg, 2), "operators": ops})
    return {"codes": codes, "buffers": buffers, "subgraphs": subgraphs}


def _nbytes(t: dict) -> int:
    _, size = TENSOR_TYPES.get(t["type"], ("?", 0))
    return int(math.ceil(math.prod(max(d, 1) for d in t["shape"]) * size))


def _is_constant(t: dict, buffers: list[int]) -> bool:
    return 0 < t["buffer"] < len(buffers) and buffers[t["buffer"]] > 0


def _peak(sg: dict, buffers: list[int]) -> tuple[int, int]:
    """(liveness peak, plain sum) of the non-constant tensor bytes of one subgraph."""
    tensors, ops = sg["tensors"], sg["operators"]
    end = len(ops)
    live: dict[int, list[int]] = {}  # tensor -> [first op, last op]

    def touch(i: int, at: int, default_first: int) -> None:
        if i < 0 or _is_constant(tensors[i], buffers):
            return
        span = live.setdefault(i, [default_first, at])
        span[0], span[1] = min(span[0], at), max(span[1], at)

    for i in sg["inputs"]:
        touch(i, 0, 0)
    for i, t in enumerate(tensors):
        if t["variable"]:
            live[i] = [0, end]
    for n, op in enumerate(ops):
        for i in op["outputs"] + op["intermediates"]:
            touch(i, n, n)
        for i in op["inputs"]:
            touch(i, n, 0)  # read before written: a graph input
    for i in sg["outputs"]:
        if i in live:
            live[i][1] = end
    sizes = {i: _nbytes(tensors[i]) for i in live}
    per_op = [sum(sizes[i] for i, (a, b) in live.items() if a <= n <= b) for n in range(end + 1)]
    return max(per_op, default=0), sum(sizes.values())


def _tensor(t: dict, name: str | None = None) -> dict:
    dtype, _ = TENSOR_TYPES.get(t["type"], (f"type{t['type']}", 0))
    shape = t["shape_signature"] or t["shape"]
    quant = None
    if t["scale"]:
        quant = {"scale": t["scale"][0] if len(t["scale"]) == 1 else t["scale"],
                 "zero_point": t["zero_point"][0] if len(t["zero_point"]) == 1 else t["zero_point"]}
    return {"name": name or t["name"], "shape": [None if d < 0 else d for d in shape], "dtype": dtype,
            "quantization": quant}


def op_kind(name: str) -> str:
    if name.startswith("CUSTOM:Flex"):
        return "flex"
    return "custom" if name.startswith("CUSTOM:") else "builtin"


def device_report(model, *, latency_runs: int = 50, threads=(1, 2)) -> dict:
    """The deployment facts of a .tflite file (path or EdgeModel); ``latency_runs=0`` skips timing."""
    from .runtime import EdgeModel

    path = Path(model.path if isinstance(model, EdgeModel) else model)
    data = read_model(path)
    info = parse(data)
    codes, buffers, main = info["codes"], info["buffers"], info["subgraphs"][0]
    counts: dict[str, int] = {}
    for sg in info["subgraphs"]:
        for op in sg["operators"]:
            name = codes[op["code"]]
            counts[name] = counts.get(name, 0) + 1
    ops = [{"op": name, "count": n, "kind": op_kind(name)} for name, n in sorted(counts.items())]
    peaks = [_peak(sg, buffers) for sg in info["subgraphs"]]
    report = {
        "file": path.name,
        "size_bytes": len(data),
        "ops": ops,
        "builtin_only": all(o["kind"] == "builtin" for o in ops),
        "flex_ops": [o["op"] for o in ops if o["kind"] == "flex"],
        "custom_ops": [o["op"] for o in ops if o["kind"] == "custom"],
        "subgraphs": len(info["subgraphs"]),
        "inputs": [_tensor(main["tensors"][i]) for i in main["inputs"]],
        "outputs": [_tensor(main["tensors"][i]) for i in main["outputs"]],
        "memory": {
            "weights_bytes": int(sum(buffers)),
            "activations_total_bytes": int(sum(total for _, total in peaks)),
            "arena_peak_bytes": int(peaks[0][0] + max((p for p, _ in peaks[1:]), default=0)),
            "method": "liveness over ops in file order (main subgraph + largest other); "
                      "non-constant tensors at batch 1; kernel scratch not included",
        },
    }
    if latency_runs:
        edge = model if isinstance(model, EdgeModel) else EdgeModel(path)
        report["latency_ms"] = {}
        for t in threads:
            b = edge.benchmark(runs=latency_runs, warmup=max(2, latency_runs // 10), num_threads=t)
            report["latency_ms"][f"{t}t"] = {k: round(b[k], 4) for k in ("p50_ms", "p90_ms", "p99_ms")}
    return report


def _kb(n: int) -> str:
    return f"{n / 1024:,.1f} KiB"


def format_device_report(report: dict) -> str:
    """The device report as a few readable lines."""
    def io(t: dict) -> str:
        q = t["quantization"]
        qs = ""
        if q and not isinstance(q["scale"], list):
            qs = f"  scale={q['scale']:.6g} zero_point={q['zero_point']}"
        elif q:
            qs = f"  per-channel ({len(q['scale'])} scales)"
        return f"  {t['name']:<28} {str(t['shape']):<20} {t['dtype']:<8}{qs}"

    m = report["memory"]
    lines = [f"{report['file']}: {report['size_bytes']:,} bytes ({_kb(report['size_bytes'])}) flash, "
             f"~{_kb(m['arena_peak_bytes'])} tensor arena (liveness peak; "
             f"{_kb(m['activations_total_bytes'])} without reuse)"]
    lines.append("inputs:")
    lines += [io(t) for t in report["inputs"]]
    lines.append("outputs:")
    lines += [io(t) for t in report["outputs"]]
    ops = ", ".join(f"{o['op']}x{o['count']}" + ("" if o["kind"] == "builtin" else f" [{o['kind']}]")
                    for o in report["ops"])
    lines.append(f"ops ({'all builtin' if report['builtin_only'] else 'NOT all builtin'}): {ops}")
    for t, b in report.get("latency_ms", {}).items():
        lines.append(f"latency {t}: p50 {b['p50_ms']:.3f} ms, p90 {b['p90_ms']:.3f} ms, p99 {b['p99_ms']:.3f} ms")
    return "\n".join(lines)

