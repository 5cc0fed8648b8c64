"""Export a trained model to TFLite in several modes, each with a deployment report.

    report = tfmodels.convert.export("runs/seed_cnn", modes=("float32", "int8"))

writes ``runs/seed_cnn/tflite/model_<mode>.tflite`` and ``export_report.json`` beside
them: per mode the file size, the ops used and whether each is a builtin (or needs
Flex), input/output dtypes and quantization parameters, a tensor-arena estimate,
LiteRT latency p50/p90/p99 at batch 1 on 1 and 2 threads (all from
:func:`tfmodels_edge.device_report`, i.e. from the .tflite alone), and how far the
converted model's answers are from the Keras model's on held-out inputs (run through
the edge kit, exactly as a device would run them). With a quantized mode, the report
also holds the per-layer int8 error and names the layer that loses most
(:mod:`tfmodels.convert.quantize`).
"""
import json
import math
import platform
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from tfmodels._keras import keras, tf
from tfmodels.convert.report import format_report  # noqa: F401  (public here since issue 2)
from tfmodels.convert.converter import CALIBRATED, MODES, ConversionError, default_signature
from tfmodels.convert.tflite import to_tflite
from tfmodels.evaluate import classification
from tfmodels.files import atomic_directory, write_json
from tfmodels.rundir import LABELS, REPORT, SAVED_MODEL, VOCABULARY, RunDir, digests, write_lines

# Largest max-abs difference (on outputs in the model's own units, e.g. class
# probabilities) at which a float mode still counts as answering like Keras.
FLOAT_TOLERANCE = {"float32": 1e-4, "float16": 5e-3, "dynamic": 5e-2}
INT8_MAX_ACCURACY_DROP = 0.005  # classifiers: half a point of accuracy
INT8_MAX_ABS_DIFF = 0.1  # other models, relative to the output's range


def _is_classifier(y, out) -> bool:
    return (y is not None and np.ndim(y) == 1 and np.issubdtype(np.asarray(y).dtype, np.integer)
            and out.ndim == 2 and out.shape[1] > 1)


def edge_outputs(path: Path, x, names) -> np.ndarray:
    """What the edge kit answers for ``x`` (an array, or a list in ``names`` order, one
    call per example), as a device would run the file."""
    from tfmodels_edge import EdgeModel

    edge = EdgeModel(path)
    if not isinstance(x, (list, tuple)):
        return edge.predict(x)
    rows = []
    for i in range(len(x[0])):
        out = edge.run(**{n: a[i:i + 1] for n, a in zip(names, x)})
        rows.append(next(iter(out.values())))
    return np.concatenate(rows)


def _float_layers(name: str) -> tuple:
    """The layers the registered model ``name`` keeps in float in int8 (``ModelSpec.float_layers``)."""
    from tfmodels.registry import get_spec
    from tfmodels.errors import UnknownNameError

    try:
        return get_spec(name).float_layers
    except UnknownNameError:
        return ()


def standardization_outside(model):
    """``(model, mean, std)``: ``model`` without the Normalization layer its one input
    meets first (after flattening), and that layer's per-feature statistics; None when
    there is no such layer.

    Calibrated modes quantize an input with one scale for the whole tensor, so a table
    whose columns span 0.1 to 1,600 keeps about one step for its small columns (measured
    on the wine table: int8 accuracy 0.50 against 1.00). As TFLite's image models do,
    those modes take standardized inputs and carry the mean and std in the file's
    metadata (``NormalizationOptions``), which the edge kit applies to the raw values.
    """
    if len(getattr(model, "inputs", None) or []) != 1:
        return None
    first = next((layer for layer in model.layers[1:]
                  if not isinstance(layer, (keras.layers.Flatten, keras.layers.Reshape))), None)
    if not isinstance(first, keras.layers.Normalization) or first.invert:
        return None
    mean = np.asarray(first.mean, np.float32).reshape(-1)
    std = np.maximum(np.sqrt(np.asarray(first.variance, np.float32).reshape(-1)), keras.backend.epsilon())
    inner = keras.models.clone_model(
        model, clone_function=lambda layer: keras.layers.Identity(name=layer.name) if layer is first else layer)
    return inner, mean, std


def outside_input_range(path: Path, x) -> float | None:
    """The fraction of the examples in ``x`` holding a value that the file's quantized
    input cannot represent (it saturates at the range calibrated on training inputs: a
    series that trends past its training levels is answered as if at the edge); None for
    a float input or several inputs."""
    from tfmodels_edge import EdgeModel

    edge = EdgeModel(path)
    if isinstance(x, (list, tuple)) or len(edge.input_details) != 1:
        return None
    detail = edge.input_details[0]
    scale, zero = detail["quantization"]
    if not scale or np.dtype(detail["dtype"]).kind not in "iu":
        return None
    info = np.iinfo(detail["dtype"])
    x = np.asarray(x, np.float64)
    if (stats := edge.normalization.get(detail["index"])) is not None:
        x = (x.reshape(len(x), -1) - stats[0]) / stats[1]
    flat = x.reshape(len(x), -1)
    low, high = (info.min - zero - 0.5) * scale, (info.max - zero + 0.5) * scale
    return float(np.mean(((flat < low) | (flat > high)).any(axis=1)))


def _device(path: Path, runs: int) -> dict:
    """The edge kit's device report of the file (ops, I/O, memory, latency), with the
    p50 latencies also flat (``p50_ms_1t``) for the summary table."""
    from tfmodels_edge import device_report

    d = device_report(path, latency_runs=runs)
    d.pop("file"), d.pop("size_bytes")  # the entry has them as file and bytes
    return d | {f"p50_ms_{t}": v["p50_ms"] for t, v in d.get("latency_ms", {}).items()}


def parity(keras_out, tflite_out, y=None, mode="float32") -> dict:
    """Compare converted-model outputs with Keras outputs on the same inputs."""
    keras_out, tflite_out = np.asarray(keras_out, np.float32), np.asarray(tflite_out, np.float32)
    if keras_out.shape != tflite_out.shape:
        raise ValueError(f"output shapes differ: Keras {keras_out.shape}, TFLite {tflite_out.shape}")
    diff = float(np.max(np.abs(keras_out - tflite_out))) if keras_out.size else 0.0
    report = {"samples": int(len(keras_out)), "max_abs_diff": diff}
    if _is_classifier(y, keras_out):
        k, t = keras_out.argmax(-1), tflite_out.argmax(-1)
        known = np.asarray(y) >= 0  # -1: a node outside the test split (tfmodels.data.graphs.splits)
        report |= {"top1_agreement": float(np.mean(k == t)),
                   "keras_accuracy": float(np.mean(k[known] == y[known])),
                   "accuracy": float(np.mean(t[known] == y[known])),
                   "confusion_matrix": classification(y, tflite_out)["confusion_matrix"]}  # [true][predicted]
        report["accuracy_delta"] = report["accuracy"] - report["keras_accuracy"]
    if mode in FLOAT_TOLERANCE:
        report["parity_ok"] = diff <= FLOAT_TOLERANCE[mode]
        report["tolerance"] = f"max_abs_diff <= {FLOAT_TOLERANCE[mode]}"
    elif "accuracy_delta" in report:
        report["parity_ok"] = report["accuracy_delta"] >= -INT8_MAX_ACCURACY_DROP
        report["tolerance"] = f"accuracy drop <= {INT8_MAX_ACCURACY_DROP}"
    else:
        span = float(np.ptp(keras_out)) or 1.0
        report["parity_ok"] = diff <= INT8_MAX_ABS_DIFF * span
        report["tolerance"] = f"max_abs_diff <= {INT8_MAX_ABS_DIFF} x output range"
    return report


def export(model_or_dir, out_dir=None, *, modes=MODES, representative=None, eval_data=None,
           input_signature=None, allow_flex: bool = False, parity_samples: int = 500,
           latency_runs: int = 50, representative_samples: int = 500, layer_errors: bool = True,
           selective_threshold: float | None = None, data_dir=None) -> dict:
    """Convert to each mode, check parity, write the files and ``export_report.json``.

    The whole set (every mode, ``labels.txt``, a text model's ``vocab.json``, the report
    with each file's SHA-256) is
    written aside and swapped in at once: a run folder's ``tflite/`` holds one export
    generation, never a mix (:meth:`tfmodels.rundir.RunDir.new_export`).

    Args:
      model_or_dir: a Keras model, or a run folder from ``tfmodels.train.fit`` (or its
        ``saved_model/``), whose data source then supplies the representative and
        held-out inputs unless given.
      out_dir: where an in-memory model's export goes (replaced whole); a run folder's
        goes to its ``tflite/``.
      data_dir: local data files for a run folder (default: the ones it was trained from).
      representative: training inputs for int8 calibration.
      eval_data: held-out ``(x, y)`` (``y`` may be None) for the parity report.
      modes: any of ``QUANT_MODES`` (``int16x8``, ``selective`` beyond the four).
      representative_samples: how many representative inputs calibrate the ranges.
      layer_errors: with a quantized mode, measure the per-layer int8 error.
      selective_threshold: rmse/scale above which ``selective`` keeps a layer in float.
    """
    from tfmodels.train import load

    options = dict(modes=modes, input_signature=input_signature, allow_flex=allow_flex,
                   parity_samples=parity_samples, latency_runs=latency_runs,
                   representative_samples=representative_samples, layer_errors=layer_errors,
                   selective_threshold=selective_threshold)
    if isinstance(model_or_dir, keras.Model):
        options |= {"representative": representative, "eval_data": eval_data}
        if out_dir is None:
            raise ValueError("out_dir is required when exporting an in-memory model")
        out_dir = Path(out_dir)
        if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / REPORT).exists():
            raise ConversionError(f"{out_dir} holds other files; export into an empty or new folder "
                                  "(an export replaces its folder whole)")
        with atomic_directory(out_dir) as tmp:
            report = _export(model_or_dir, tmp, None, **options)
        return report | {"report_file": str(Path(out_dir) / REPORT)}
    if out_dir is not None:
        raise ValueError("a run folder's export goes to its own tflite/ (out_dir is for in-memory models)")
    source = Path(model_or_dir)
    run = RunDir(source.parent if source.name == SAVED_MODEL else source).require()
    with run.lock("tfmodels export"):
        model = load(run.path)
        if representative is None or eval_data is None:
            splits = run.load_data(data_dir)
            representative = splits.train[0] if representative is None else representative
            eval_data = splits.test if eval_data is None else eval_data
        config, metrics = run.checked_config(), run.metrics()
        options |= {"representative": representative, "eval_data": eval_data}
        with run.new_export() as tmp:
            report = _export(model, tmp, {"source": str(run.path), "run_id": metrics.get("run_id")},
                             labels=config.get("class_names") or (), vocabulary=run.vocabulary(),
                             **options)
    return report | {"report_file": str(run.report_file)}


def _export(model, out_dir: Path, origin, *, modes, representative, eval_data, input_signature,
            allow_flex, parity_samples, latency_runs, representative_samples, layer_errors,
            selective_threshold, labels=(), vocabulary=None) -> dict:
    """Write every mode, the side files and the report into the empty folder ``out_dir``."""
    from tfmodels.convert import metadata, quantize

    if hasattr(model, "inference_model"):  # self-supervised models (autoencoders) export this graph
        model = model.inference_model()
    signature = input_signature or default_signature(model)
    names = [s.name for s in signature]
    x_eval = y_eval = keras_out = None
    if eval_data is not None:
        x_eval, y_eval = eval_data
        take = slice(0, parity_samples)
        examples = len(x_eval[0]) if isinstance(x_eval, (list, tuple)) else len(x_eval)
        x_eval = [a[take] for a in x_eval] if isinstance(x_eval, (list, tuple)) else x_eval[take]
        if y_eval is not None:  # a graph is one input example with a label per node (or graph)
            y_eval = np.asarray(y_eval)[take] if len(y_eval) == examples else np.asarray(y_eval)
        keras_out = model.predict(x_eval, batch_size=256, verbose=0)

    report = {
        "model": model.name,
        **(origin or {"source": None, "run_id": None}),
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "tensorflow": tf.__version__,
        "machine": f"{platform.machine()}, {platform.system()}",
        "params": int(model.count_params()),
        "inputs": [{"name": s.name, "shape": list(s.shape), "dtype": s.dtype.name} for s in signature],
        "modes": {},
    }
    side_files = {}  # what a device shows for each class, and how it encodes text
    if labels:
        side_files[LABELS] = ("\n".join(labels) + "\n").encode()
    if vocabulary:
        side_files[VOCABULARY] = json.dumps(vocabulary).encode()
    calibrated = [m for m in modes if m in CALIBRATED]
    q_model, q_representative, normalization = model, representative, {}
    if calibrated and (outside := standardization_outside(model)) is not None:
        q_model, mean, std = outside
        normalization = {0: (mean, std)}
        if representative is not None:
            q_representative = ((np.asarray(representative, np.float32).reshape(len(representative), -1) - mean)
                                / std).reshape(np.shape(representative))
        report["input_normalization"] = {"modes": calibrated, "mean": mean.tolist(), "std": std.tolist()}
    q_kwargs = dict(representative_samples=representative_samples, input_signature=signature,
                    allow_flex=allow_flex)
    errors = None
    if calibrated and layer_errors and representative is not None:
        errors = quantize.layer_errors(q_model, q_representative, **q_kwargs)
        report["quantization_error"] = quantize.errors_summary(errors) | {"per_layer": errors}
    float_layers = _float_layers(model.name)
    for mode in modes:
        extra, mode_normalization = {}, normalization if mode in CALIBRATED else {}
        if mode == "int8" and float_layers and q_representative is not None:  # int8 around a float path
            flatbuffer, info = quantize.selective(q_model, representative=q_representative, threshold=math.inf,
                                                  errors=errors, keep_float=float_layers, **q_kwargs)
            extra = {"float_layers": sorted({n if n != "<model output>" else model.output_names[0]
                                             for n in info["float_layers"]})}
        elif mode == "selective":
            threshold = quantize.SELECTIVE_THRESHOLD if selective_threshold is None else selective_threshold
            if representative is None:
                raise ConversionError("selective conversion needs representative inputs from the training split")
            flatbuffer, info = quantize.selective(q_model, representative=q_representative,
                                                  threshold=threshold, errors=errors, **q_kwargs)
            extra = {"threshold": threshold, "float_layers": info["float_layers"]}
        else:
            converted, rep = (q_model, q_representative) if mode in CALIBRATED else (model, representative)
            flatbuffer = to_tflite(converted, mode, representative=rep, allow_flex=allow_flex,
                                   input_signature=signature, representative_samples=representative_samples)
        flatbuffer = metadata.embed(flatbuffer, side_files, model_name=model.name, normalization=mode_normalization)
        path = out_dir / f"model_{mode}.tflite"
        path.write_bytes(flatbuffer)
        entry = {"file": path.name, "bytes": len(flatbuffer)} | extra
        if keras_out is not None:
            entry |= parity(keras_out, edge_outputs(path, x_eval, names), y_eval, mode)
            if (outside := outside_input_range(path, x_eval)) is not None:
                entry["inputs_outside_range"] = outside
        entry |= _device(path, latency_runs)
        report["modes"][mode] = entry
    if "float32" in report["modes"]:
        base = report["modes"]["float32"]["bytes"]
        for entry in report["modes"].values():
            entry["size_ratio_vs_float32"] = round(entry["bytes"] / base, 4)
    if labels:  # what a device shows for each class
        write_lines(out_dir / LABELS, labels)
    if vocabulary:  # how a device encodes text with the training ids
        write_json(out_dir / VOCABULARY, vocabulary)
    report["files"] = digests(out_dir)
    write_json(out_dir / REPORT, report)
    return report
