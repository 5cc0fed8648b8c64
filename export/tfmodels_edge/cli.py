"""`tfmodels-edge` command: predict, benchmark and inspect a .tflite model, printing JSON.

Errors a user can cause (missing or corrupt model, input that does not fit) print one
line `error: ...` on stderr and exit with status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from typing import Iterator

import numpy as np

from .errors import EdgeError
from .runtime import EdgeModel

EXIT_USER_ERROR = 2


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        with _native_stderr_silenced():  # LiteRT logs "INFO: Created ... XNNPACK delegate" on load
            model = EdgeModel(args.model)
        result = args.command(model, args)
    except (EdgeError, OSError, ValueError, ImportError) as e:
        message = " ".join(str(e).split()) or type(e).__name__
        print(f"error: {message}", file=sys.stderr)
        return EXIT_USER_ERROR
    print(json.dumps(result, indent=2))
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tfmodels-edge", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    predict = commands.add_parser("predict", help="run the model on inputs saved as .npy")
    predict.add_argument("model", help="path to a .tflite file")
    predict.add_argument(
        "--input", action="append", required=True, metavar="[NAME=]X.npy",
        help="input array; repeat as NAME=X.npy for a model with several inputs",
    )
    predict.set_defaults(command=_predict)

    bench = commands.add_parser("benchmark", help="measure invoke() latency on random inputs")
    bench.add_argument("model", help="path to a .tflite file")
    bench.add_argument("--runs", type=int, default=100)
    bench.add_argument("--warmup", type=int, default=10)
    bench.add_argument("--threads", type=int, default=None)
    bench.set_defaults(command=_benchmark)

    inspect = commands.add_parser("inspect", help="show inputs, outputs, quantization, size and ops")
    inspect.add_argument("model", help="path to a .tflite file")
    inspect.set_defaults(command=_inspect)
    return parser


def _predict(model: EdgeModel, args: argparse.Namespace) -> dict:
    named = [spec.partition("=") for spec in args.input]
    if len(named) == 1 and not named[0][1]:
        outputs = model.predict(np.load(args.input[0], allow_pickle=False))
        outputs = outputs if isinstance(outputs, list) else [outputs]
        result: dict = {"outputs": [o.tolist() for o in outputs]}
        if len(outputs) == 1 and outputs[0].ndim == 2 and outputs[0].dtype.kind == "f":
            result["top1"] = outputs[0].argmax(axis=1).tolist()
        return result
    if not all(sep for _, sep, _ in named):
        raise ValueError("with several --input arguments, write each as NAME=X.npy")
    inputs = {name: np.load(path, allow_pickle=False) for name, _, path in named}
    return {"outputs": {name: value.tolist() for name, value in model.run(**inputs).items()}}


def _benchmark(model: EdgeModel, args: argparse.Namespace) -> dict:
    return model.benchmark(runs=args.runs, warmup=args.warmup, num_threads=args.threads)


def _inspect(model: EdgeModel, args: argparse.Namespace) -> dict:
    def tensor(detail: dict) -> dict:
        scale, zero_point = detail["quantization"]
        return {
            "name": detail["name"],
            "shape": [None if n < 0 else int(n) for n in detail["shape_signature"]],
            "dtype": np.dtype(detail["dtype"]).name,
            "quantization": {"scale": float(scale), "zero_point": int(zero_point)} if scale else None,
        }

    return {
        "path": str(model.path),
        "size_bytes": model.size_bytes,
        "quantized": model.is_quantized,
        "signatures": model.signatures,
        "inputs": [tensor(d) for d in model.input_details],
        "outputs": [tensor(d) for d in model.output_details],
        "ops": model.ops(),
    }


@contextlib.contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """Point file descriptor 2 at /dev/null so native log lines don't garble our output."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
