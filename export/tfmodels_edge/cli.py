"""`tfmodels-edge` command: predict, benchmark, inspect a .tflite model; write TFLM C sources.

predict takes .npy arrays, images (Pillow) or text (with the vocab.json beside the model)
and names each predicted class from the labels.txt beside the model (``top1_label``);
inspect prints the deployment report (ops, I/O quantization, flash, RAM, latency) as JSON,
or as a table with --table; micro writes the model as C source + header for TFLite Micro.

Errors a user can cause (missing or corrupt model, input that does not fit) print one
line `error: ...` on stderr and exit with status 2. The JSON printed is always strict
(RFC 8259): a non-finite output value is written as null and counted under
"nonfinite_outputs".
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
from typing import Any, Iterator

import numpy as np

from . import inputs as _inputs
from .errors import EdgeError, InputError
from .modelfile import DEFAULT_MAX_MEMORY_MB
from .report import device_report, format_device_report
from .runtime import EdgeModel

EXIT_USER_ERROR = 2


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        with _native_stderr_silenced():  # LiteRT logs "INFO: Created ... XNNPACK delegate" on load
            model = EdgeModel(args.model, allow_nonfinite=args.allow_nonfinite, max_memory_mb=args.max_memory_mb)
        result = args.command(model, args)
    except (EdgeError, OSError, ValueError, ImportError) as e:
        message = " ".join(str(e).split()) or type(e).__name__
        print(f"error: {message}", file=sys.stderr)
        return EXIT_USER_ERROR
    print(result if isinstance(result, str) else strict_json(result))
    return 0


def strict_json(result: dict) -> str:
    """``result`` as strict JSON: NaN and infinities become null, counted in
    ``"nonfinite_outputs"`` (added only when there are some)."""
    count = 0

    def clean(value: Any) -> Any:
        nonlocal count
        if isinstance(value, float) and not math.isfinite(value):
            count += 1
            return None
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [clean(v) for v in value]
        return value

    cleaned = clean(result)
    if count:
        cleaned["nonfinite_outputs"] = count
    return json.dumps(cleaned, indent=2, allow_nan=False)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tfmodels-edge", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    limits = argparse.ArgumentParser(add_help=False)
    limits.add_argument("--max-memory-mb", type=float, default=None,
                        help="refuse a model whose tensors need more (default $TFMODELS_EDGE_MAX_MEMORY_MB, else "
                             f"{DEFAULT_MAX_MEMORY_MB})")
    limits.add_argument("--allow-nonfinite", action="store_true", help="run NaN/inf inputs instead of refusing them")
    limits.add_argument("--max-pixels", type=int, default=None,
                        help="refuse larger images before decoding (default $TFMODELS_EDGE_MAX_PIXELS, else "
                             f"{_inputs.DEFAULT_MAX_PIXELS:,})")

    predict = commands.add_parser("predict", parents=[limits], help="run the model on .npy arrays, an image or text")
    predict.add_argument("model", help="path to a .tflite file")
    given = predict.add_mutually_exclusive_group(required=True)
    given.add_argument(
        "--input", action="append", metavar="[NAME=]FILE",
        help="a .npy array or an image (PNG/JPEG, resized, scaled to [0, 1]); "
             "repeat as NAME=X.npy for a model with several inputs",
    )
    given.add_argument("--text", help="text for a language model or text classifier (needs a vocabulary)")
    predict.add_argument("--vocab", help="vocabulary JSON (default: vocab.json beside the model)")
    predict.add_argument("--labels", help="class names, one per line (default: labels.txt beside the model)")
    predict.set_defaults(command=_predict)

    bench = commands.add_parser("benchmark", parents=[limits], help="measure invoke() latency on random inputs")
    bench.add_argument("model", help="path to a .tflite file")
    bench.add_argument("--runs", type=int, default=100)
    bench.add_argument("--warmup", type=int, default=10)
    bench.add_argument("--threads", type=int, default=None)
    bench.set_defaults(command=_benchmark)

    inspect = commands.add_parser("inspect", parents=[limits], help="deployment report: ops, I/O quantization, flash, RAM, latency")
    inspect.add_argument("model", help="path to a .tflite file")
    inspect.add_argument("--runs", type=int, default=50, help="timed runs per thread count (0: no timing)")
    inspect.add_argument("--table", action="store_true", help="readable lines instead of JSON")
    inspect.set_defaults(command=_inspect)

    micro = commands.add_parser("micro", parents=[limits], help="write the model as C source + header for TFLite Micro")
    micro.add_argument("model", help="path to a .tflite file (int8 for microcontrollers)")
    micro.add_argument("--out", required=True, help="output folder")
    micro.add_argument("--name", default="g_model", help="C symbol of the array")
    micro.set_defaults(command=_micro)
    return parser


def _predict(model: EdgeModel, args: argparse.Namespace) -> dict:
    result = _predict_text(model, args) if args.text is not None else _predict_arrays(model, args)
    labels_path = args.labels or model.path.parent / "labels.txt"
    labels = _inputs.load_labels(args.labels) if args.labels else model.labels
    if "top1" in result and labels is not None:
        outputs = result["outputs"]
        classes = np.shape(next(iter(outputs.values())) if isinstance(outputs, dict) else outputs)[-1]
        if len(labels) != classes:
            raise InputError(f"{labels_path} names {len(labels)} classes, the model outputs "
                             f"{classes} (pass --labels for this model)")
        result["top1_label"] = [labels[i] for i in result["top1"]]
    return result


def _predict_arrays(model: EdgeModel, args: argparse.Namespace) -> dict:
    named = [spec.partition("=") for spec in args.input]
    if len(named) == 1 and not named[0][1]:
        outputs = model.predict(_inputs.load_array(args.input[0], model.input_details[0], args.max_pixels))
        outputs = outputs if isinstance(outputs, list) else [outputs]
        return {"outputs": [o.tolist() for o in outputs]} | _top1(outputs)
    if not all(sep for _, sep, _ in named):
        raise ValueError("with several --input arguments, write each as NAME=X.npy")
    details = dict(zip(model.input_names, model.input_details))
    inputs = {name: _inputs.load_array(path, details.get(name, model.input_details[0]), args.max_pixels)
              for name, _, path in named}
    outputs = model.run(**inputs)
    return {"outputs": {name: value.tolist() for name, value in outputs.items()}} | _top1(list(outputs.values()))


def _top1(outputs: list) -> dict:
    """``{"top1": [...]}`` when the model answers one row of class scores per example
    (a classifier, or a graph model's nodes), else nothing."""
    if len(outputs) == 1 and outputs[0].ndim == 2 and outputs[0].dtype.kind == "f" and outputs[0].shape[1] > 1:
        return {"top1": outputs[0].argmax(axis=1).tolist()}
    return {}


def _predict_text(model: EdgeModel, args: argparse.Namespace) -> dict:
    """Encode the text with the model's vocabulary; name the top token(s) of the output."""
    vocab = _inputs.load_vocab(args.vocab) if args.vocab else model.vocabulary
    if vocab is None:
        raise InputError(f"--text needs the model's vocabulary: no {model.path.parent / 'vocab.json'} "
                         "and none embedded in the model (pass --vocab)")
    detail = model.input_details[0]
    shape = [int(n) for n in detail["shape_signature"]]
    if len(model.input_details) != 1 or len(shape) != 2 or np.dtype(detail["dtype"]).kind not in "iu":
        raise InputError(f"--text needs one integer input of shape (batch, length), the model has "
                         f"{[(d['name'], d['shape'].tolist()) for d in model.input_details]}")
    ids, n = _inputs.encode_text(args.text, vocab, shape[1] if shape[1] > 0 else len(args.text))
    out = model.predict(ids)
    out = out[0] if isinstance(out, list) else out
    result = {"ids": ids[0, :n].tolist(), "outputs": out.tolist()}
    if out.ndim == 3 and out.shape[-1] == len(vocab["tokens"]):  # LM: next token after the text
        result["next_token"] = _inputs.decode([int(out[0, n - 1].argmax())], vocab)[0]
    elif out.ndim == 2:
        result["top1"] = out.argmax(axis=1).tolist()
    return result


def _benchmark(model: EdgeModel, args: argparse.Namespace) -> dict:
    return model.benchmark(runs=args.runs, warmup=args.warmup, num_threads=args.threads)


def _inspect(model: EdgeModel, args: argparse.Namespace) -> dict | str:
    """The deployment report from the file alone, with the runtime's view added."""
    if args.runs < 0:
        raise ValueError(f"--runs must be >= 0, given {args.runs}")
    report = device_report(model, latency_runs=args.runs)
    if args.table:
        return format_device_report(report)
    return {"path": str(model.path), "quantized": model.is_quantized, "signatures": model.signatures,
            "labels": model.labels, "embedded_files": model.embedded_files,
            "input_normalization": {name: {"mean": model.normalization[d["index"]][0].tolist(),
                                           "std": model.normalization[d["index"]][1].tolist()}
                                    for name, d in zip(model.input_names, model.input_details)
                                    if d["index"] in model.normalization},
            "execution_order": model.ops(),
            **report}


def _micro(model: EdgeModel, args: argparse.Namespace) -> dict:
    from .micro import write_c_array

    return write_c_array(model.path, args.out, name=args.name)


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
