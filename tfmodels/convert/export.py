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
import platform
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from tfmodels._keras import keras, tf
from tfmodels.convert.report import format_report  # noqa: F401  (public here since issue 2)
from tfmodels.convert.tflite import MODES, default_signature, tflite_ops, to_tflite
from tfmodels.files import atomic_write, write_json

# Largest max-abs difference (on outputs in the model's own units, e.g. class
# probabilities) at which a float mode still counts as answering like Keras.
FLOAT_TOLERANCE = {"float32": 1e-4, "float16": 5e-3, "dynamic": 5e-2}
INT8_MAX_ACCURACY_DROP = 0.005  # classifiers: half a point of accuracy
INT8_MAX_ABS_DIFF = 0.1  # other models, relative to the output's range


def _is_classifier(y, out) -> bool:
    return (y is not None and np.ndim(y) == 1 and np.issubdtype(np.asarray(y).dtype, np.integer)
            and out.ndim == 2 and out.shape[1] > 1)


def _edge_outputs(path: Path, x, names) -> np.ndarray:
    from tfmodels_edge import EdgeModel

    edge = EdgeModel(path)
    if not isinstance(x, (list, tuple)):
        return edge.predict(x)
    rows = []
    for i in range(len(x[0])):
        out = edge.run(**{n: a[i:i + 1] for n, a in zip(names, x)})
        rows.append(next(iter(out.values())))
    return np.concatenate(rows)


def _device(path: Path, runs: int) -> dict:
    """The .tflite-only part of the report; latency keys also flat for the summary table."""
    from tfmodels_edge import device_report

    d = device_report(path, latency_runs=runs)
    flat = {f"p50_ms_{t}": v["p50_ms"] for t, v in d.get("latency_ms", {}).items()}
    return {"ops_detail": d["ops"], "custom_ops": d["custom_ops"], "inputs": d["inputs"],
            "outputs": d["outputs"], "memory": d["memory"], "latency_ms": d.get("latency_ms", {})} | flat


def parity(keras_out, tflite_out, y=None, mode="float32") -> dict:
    """Compare converted-model outputs with Keras outputs on the same inputs."""
    keras_out, tflite_out = np.asarray(keras_out, np.float32), np.asarray(tflite_out, np.float32)
    if keras_out.shape != tflite_out.shape:
        raise ValueError(f"output shapes differ: Keras {keras_out.shape}, TFLite {tflite_out.shape}")
    diff = float(np.max(np.abs(keras_out - tflite_out))) if keras_out.size else 0.0
    report = {"samples": int(len(keras_out)), "max_abs_diff": diff}
    if _is_classifier(y, keras_out):
        k, t = keras_out.argmax(-1), tflite_out.argmax(-1)
        report |= {"top1_agreement": float(np.mean(k == t)),
                   "keras_accuracy": float(np.mean(k == y)),
                   "accuracy": float(np.mean(t == y))}
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


def _run_dir_data(run_dir: Path):
    """Training inputs and test arrays of the dataset a run directory was trained on."""
    metrics = run_dir / "metrics.json"
    if not metrics.exists():
        return None, None
    from tfmodels.data import load_splits

    splits = load_splits(json.loads(metrics.read_text())["dataset"])
    return splits.train[0], splits.test


def export(model_or_dir, out_dir=None, *, modes=MODES, representative=None, eval_data=None,
           input_signature=None, allow_flex: bool = False, parity_samples: int = 500,
           latency_runs: int = 50, representative_samples: int = 500, layer_errors: bool = True,
           selective_threshold: float | None = None) -> dict:
    """Convert to each mode, check parity, write the files and ``export_report.json``.

    Args:
      model_or_dir: a Keras model, a SavedModel directory, or a run directory from
        ``tfmodels.train.fit`` (whose dataset then supplies the representative and
        held-out inputs unless given).
      out_dir: default ``<run dir>/tflite``.
      representative: training inputs for int8 calibration.
      eval_data: held-out ``(x, y)`` (``y`` may be None) for the parity report.
      modes: any of ``QUANT_MODES`` (``int16x8``, ``selective`` beyond the four).
      representative_samples: how many representative inputs calibrate the ranges.
      layer_errors: with a quantized mode, measure the per-layer int8 error.
      selective_threshold: rmse/scale above which ``selective`` keeps a layer in float.
    """
    from tfmodels.convert import quantize
    from tfmodels.train import load

    model, source = model_or_dir, None
    if not isinstance(model_or_dir, keras.Model):
        source = Path(model_or_dir)
        model = load(source)
        run_dir = source.parent if source.name == "saved_model" else source
        train_x, test = _run_dir_data(run_dir)
        representative = train_x if representative is None else representative
        eval_data = test if eval_data is None else eval_data
        out_dir = out_dir or run_dir / "tflite"
    if hasattr(model, "inference_model"):  # self-supervised models (autoencoders) export this graph
        model = model.inference_model()
    if out_dir is None:
        raise ValueError("out_dir is required when exporting an in-memory model")
    out_dir = Path(out_dir)
    signature = input_signature or default_signature(model)
    names = [s.name for s in signature]
    x_eval = y_eval = keras_out = None
    if eval_data is not None:
        x_eval, y_eval = eval_data
        take = slice(0, parity_samples)
        x_eval = [a[take] for a in x_eval] if isinstance(x_eval, (list, tuple)) else x_eval[take]
        y_eval = None if y_eval is None else np.asarray(y_eval)[take]
        keras_out = model.predict(x_eval, batch_size=256, verbose=0)

    report = {
        "model": model.name,
        "source": str(source) if source else None,
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "tensorflow": tf.__version__,
        "machine": f"{platform.machine()}, {platform.system()}",
        "params": int(model.count_params()),
        "inputs": [{"name": s.name, "shape": list(s.shape), "dtype": s.dtype.name} for s in signature],
        "modes": {},
    }
    calibrated = [m for m in modes if m in ("int8", "int16x8", "selective")]
    q_kwargs = dict(representative_samples=representative_samples, input_signature=signature,
                    allow_flex=allow_flex)
    errors = None
    if calibrated and layer_errors and representative is not None:
        errors = quantize.layer_errors(model, representative, **q_kwargs)
        report["quantization_error"] = quantize.errors_summary(errors) | {"per_layer": errors}
    for mode in modes:
        extra = {}
        if mode == "selective":
            threshold = quantize.SELECTIVE_THRESHOLD if selective_threshold is None else selective_threshold
            if representative is None:
                to_tflite(model, mode)  # raises the clear "needs representative inputs" error
            flatbuffer, info = quantize.selective(model, representative=representative,
                                                  threshold=threshold, errors=errors, **q_kwargs)
            extra = {"threshold": threshold, "float_layers": info["float_layers"]}
        else:
            flatbuffer = to_tflite(model, mode, representative=representative, allow_flex=allow_flex,
                                   input_signature=signature, representative_samples=representative_samples)
        path = atomic_write(out_dir / f"model_{mode}.tflite", flatbuffer)
        ops = tflite_ops(flatbuffer)
        entry = {"file": path.name, "bytes": len(flatbuffer), "ops": ops,
                 "flex_ops": [o for o in ops if o.startswith("CUSTOM:Flex")],
                 "builtin_only": not any(o.startswith("CUSTOM:") for o in ops)} | extra
        if keras_out is not None:
            entry |= parity(keras_out, _edge_outputs(path, x_eval, names), y_eval, mode)
        entry |= _device(path, latency_runs)
        report["modes"][mode] = entry
    if "float32" in report["modes"]:
        base = report["modes"]["float32"]["bytes"]
        for entry in report["modes"].values():
            entry["size_ratio_vs_float32"] = round(entry["bytes"] / base, 4)
    write_json(out_dir / "export_report.json", report)
    return report
