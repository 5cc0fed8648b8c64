"""Benchmark ``edge``: the same trained models on LiteRT (four modes) and ONNX Runtime.

For seed CNN, mobilenet_v2, resnet, the LSTM classifier, transformer_encoder, the conv
autoencoder and GCN (each built through ``tfmodels.build`` and trained briefly on its
real data): per mode the file size, LiteRT p50 latency at batch 1 on 1 and 2 threads,
accuracy (reconstruction MSE for the autoencoder) and the max abs difference from
Keras; ONNX Runtime fp32 latency on the same input, same threads; the ratio LiteRT int8
/ ONNX Runtime fp32; the fastest runtime/mode and what accuracy it costs.

    python -m benchmarks edge        # writes benchmarks/results/edge.json
    TFMODELS_BENCH_ONLY=resnet,lstm python -m benchmarks edge   # remeasure these, keep the rest

Each model's entry carries the date it was measured.
"""
import os
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np

import benchmarks
import tfmodels
from tfmodels import convert, keras, train
from tfmodels.convert import onnx as tfonnx
from tfmodels.convert import quantize
from tfmodels.data import load_splits
from tfmodels.data.core import make_splits

CONFIG = {
    "modes": list(convert.MODES),
    "threads": [1, 2],
    "latency_runs": int(os.environ.get("EDGE_BENCH_RUNS", 100)),
    "eval_samples": 500,
    "representative_samples": 300,
    "models": {
        "seed_cnn": {"data": "digits", "epochs": 8, "batch_size": 32},
        # the CNN benchmark's quick settings: 3 epochs at a constant rate left both at ~20%
        "mobilenet_v2": {"data": "usps", "epochs": 6, "batch_size": 64, "learning_rate": 2e-3,
                         "schedule": "cosine", "kwargs": {"alpha": 0.35, "stem_strides": 1}},
        "resnet": {"data": "usps", "epochs": 6, "batch_size": 64, "learning_rate": 2e-3,
                   "schedule": "cosine", "kwargs": {"depth": 8}},
        "lstm": {"data": "sentiment", "epochs": 4, "batch_size": 32},
        "transformer_encoder": {"data": "sentiment", "epochs": 4, "batch_size": 32},
        "conv_autoencoder": {"data": "digits", "epochs": 10, "batch_size": 32, "task": "reconstruction"},
        "gcn": {"data": "cora", "epochs": 100, "task": "node"},
    },
}


def _take(x, n):
    return [a[:n] for a in x] if isinstance(x, (list, tuple)) else x[:n]


def _first(x):
    return [a[:1] for a in x] if isinstance(x, (list, tuple)) else [x[:1]]


# -- models and their data ---------------------------------------------------------


def _train_standard(name, cfg, data_dir):
    splits = load_splits(cfg["data"], data_dir)
    if cfg.get("task") == "reconstruction":  # x -> x
        splits = make_splits(f"{cfg['data']}-reconstruction", *[(s[0], s[0]) for s in (splits.train, splits.val, splits.test)],
                             task="regression")
    result = train.fit(name, splits, epochs=cfg["epochs"], batch_size=cfg["batch_size"], verbose=0,
                       learning_rate=cfg.get("learning_rate", 1e-3), schedule=cfg.get("schedule"),
                       model_kwargs=cfg.get("kwargs"))
    model = result.model
    x_test, y_test = splits.test
    kind = "reconstruction" if cfg.get("task") == "reconstruction" else "classification"
    return {"model": model, "representative": splits.train[0], "x": x_test, "y": y_test, "kind": kind,
            "builder_kwargs": {"input_shape": splits.info.input_shape, **cfg.get("kwargs", {}),
                               **({"num_classes": splits.info.num_classes} if kind == "classification" else {})},
            "train_metrics": {k: v for k, v in result.metrics.items() if k.startswith("test_")}}


def _train_gcn(cfg, data_dir):
    """The GCN of the paper on Cora through the one trainer (full batch, 100 epochs)."""
    splits = load_splits("cora", data_dir)
    model = train.fit("gcn", splits, epochs=cfg["epochs"], verbose=0).model
    x, y = splits.test  # the whole graph; labels -1 outside the test nodes
    return {"model": model, "representative": x, "x": x, "y": np.maximum(y, 0), "kind": "node",
            "test_nodes": np.flatnonzero(y >= 0)}


def _batch1_twin(name, model, kwargs):
    """The same weights in a model whose Input has batch 1 (recurrent layers then lower to
    fused builtin ops); None when the builder has no batch_size argument."""
    import inspect

    builder = tfmodels.get_spec(name).builder
    if "batch_size" not in inspect.signature(builder).parameters:
        return None
    twin = builder(**kwargs, batch_size=1)
    twin.set_weights(model.get_weights())
    return twin


# -- measurement ---------------------------------------------------------------------


def _input_names(model):
    return [t.name.split(":")[0] for t in model.inputs]


def _by_edge_order(edge, model, arrays):
    """Arrays given in the Keras model's input order, reordered to the interpreter's."""
    named = dict(zip(_input_names(model), arrays))
    return [named[n] for n in edge.input_names]


def _outputs_edge(path, model, x, kind):
    from tfmodels_edge import EdgeModel

    edge = EdgeModel(path)
    if kind == "node":
        return next(iter(edge.run(**dict(zip(_input_names(model), x))).values()))
    return edge.predict(x)


def _score(kind, out, y, item):
    if kind == "classification":
        return float(np.mean(out.argmax(-1) == y))
    if kind == "node":
        nodes = item["test_nodes"]
        return float(np.mean(out[nodes].argmax(-1) == y[nodes]))
    return None


def _mse(kind, out, x):
    return float(np.mean(np.square(out - x))) if kind == "reconstruction" else None


def _measure(name, item, cfg, work: Path) -> dict:
    model, kind = item["model"], item["kind"]
    if hasattr(model, "inference_model"):  # self-supervised models export their inference graph
        model = model.inference_model()
    n = cfg["eval_samples"]
    x_eval = item["x"] if kind == "node" else _take(item["x"], n)
    y_eval = item["y"] if kind == "node" else np.asarray(item["y"])[:n]
    keras_out = model(x_eval, training=False).numpy() if kind == "node" else model.predict(x_eval, verbose=0, batch_size=64)
    sample = x_eval if kind == "node" else _first(x_eval)
    entry = {"kind": kind, "trained": True, "params": int(model.count_params()),
             "keras_accuracy": _score(kind, keras_out, y_eval, item),
             "keras_mse": _mse(kind, keras_out, x_eval), "train_metrics": item.get("train_metrics", {})}
    from tfmodels_edge import EdgeModel, device_report

    conv_model = model
    try:
        convert.to_tflite(model, "float32")
    except convert.ConversionError as e:
        conv_model = _batch1_twin(name, model, item.get("builder_kwargs", {}))
        if conv_model is None:
            raise
        entry["converted_from"] = f"batch-1 twin (free batch failed: {str(e)[:160]})"
    modes = {}
    for mode in cfg["modes"]:
        try:
            flatbuffer = convert.to_tflite(conv_model, mode, representative=item["representative"],
                                           representative_samples=cfg["representative_samples"])
        except convert.ConversionError as e:
            modes[mode] = {"error": str(e)[:400]}
            continue
        path = work / f"{name}_{mode}.tflite"
        path.write_bytes(flatbuffer)
        out = _outputs_edge(path, conv_model, x_eval, kind)
        dev = device_report(path, latency_runs=0)
        m = {"bytes": len(flatbuffer), "builtin_only": dev["builtin_only"],
             "arena_peak_bytes": dev["memory"]["arena_peak_bytes"],
             "accuracy": _score(kind, out, y_eval, item), "mse": _mse(kind, out, x_eval),
             "max_abs_diff": float(np.max(np.abs(out - keras_out)))}
        if kind == "classification":
            m["top1_agreement"] = float(np.mean(out.argmax(-1) == keras_out.argmax(-1)))
        edge = EdgeModel(path)
        for t in cfg["threads"]:
            b = edge.benchmark(runs=cfg["latency_runs"], warmup=10, num_threads=t,
                               inputs=_by_edge_order(edge, conv_model, sample))
            m[f"litert_p50_ms_{t}t"] = b["p50_ms"]
            m[f"litert_p90_ms_{t}t"] = b["p90_ms"]
        modes[mode] = m
    entry.update(modes)
    try:
        onnx_bytes = tfonnx.to_onnx(conv_model)
        session = tfonnx.onnx_session(onnx_bytes, 1)
        if kind == "node":
            o = session.run(None, {i.name: a for i, a in zip(session.get_inputs(), x_eval)})[0]
        else:
            o = tfonnx.onnx_predict(session, x_eval)
        entry["onnxruntime_fp32_max_abs_diff"] = float(np.max(np.abs(o - keras_out)))
        entry["onnxruntime_fp32_accuracy"] = _score(kind, o, y_eval, item)
        entry["onnx_bytes"] = len(onnx_bytes)
        for t in cfg["threads"]:
            b = tfonnx.onnx_benchmark(onnx_bytes, threads=t, runs=cfg["latency_runs"], warmup=10, inputs=sample)
            entry[f"onnxruntime_fp32_p50_ms_{t}t"] = b["p50_ms"]
    except Exception as e:  # record, keep going with the other models
        entry["onnx_error"] = f"{type(e).__name__}: {str(e)[:400]}"
    if "int8" in modes and "error" not in modes["int8"]:
        try:
            errors = quantize.layer_errors(conv_model, item["representative"], samples=30,
                                           representative_samples=cfg["representative_samples"])
            s = quantize.errors_summary(errors)
            entry["worst_int8_layer"] = {"layer": s["worst_layer"], "rmse_over_scale": s["worst_rmse_over_scale"]}
        except Exception as e:
            entry["worst_int8_layer"] = {"error": str(e)[:300]}
    _summarize(entry, cfg)
    return entry


def _summarize(entry, cfg):
    """Fastest runtime/mode at 1 thread, its accuracy cost, and int8 / ONNX fp32 ratios."""
    candidates = [(m, e[f"litert_p50_ms_{t}t"], t) for m in cfg["modes"] if "bytes" in (e := entry.get(m, {}))
                  for t in cfg["threads"]]
    candidates += [("onnxruntime_fp32", entry[f"onnxruntime_fp32_p50_ms_{t}t"], t) for t in cfg["threads"]
                   if f"onnxruntime_fp32_p50_ms_{t}t" in entry]
    if candidates:
        mode, ms, t = min(candidates, key=lambda c: c[1])
        acc = entry["onnxruntime_fp32_accuracy"] if mode == "onnxruntime_fp32" else entry[mode]["accuracy"]
        base = entry["keras_accuracy"]
        entry["fastest"] = {"runtime_mode": mode if mode.startswith("onnx") else f"litert_{mode}", "threads": t,
                            "p50_ms": ms, "accuracy": acc,
                            "accuracy_cost": None if acc is None or base is None else base - acc}
        if entry["kind"] == "reconstruction":
            mse = entry["keras_mse"] if mode.startswith("onnx") else entry[mode]["mse"]
            entry["fastest"]["mse_cost"] = mse - entry["keras_mse"]
    int8 = entry.get("int8", {})
    for t in cfg["threads"]:
        onnx = entry.get(f"onnxruntime_fp32_p50_ms_{t}t")
        if onnx and f"litert_p50_ms_{t}t" in int8:
            entry[f"litert_int8_over_onnxruntime_fp32_{t}t"] = int8[f"litert_p50_ms_{t}t"] / onnx


def _previous_models(names) -> dict:
    """Entries of the models not being remeasured, from the last results file."""
    previous = benchmarks.previous("edge")
    date = previous.get("_meta", {}).get("date")
    return {n: {"date": date, **e} for n, e in previous.get("models", {}).items() if n not in names}


def run(data_dir=None, only=None) -> dict:
    cfg = CONFIG
    only = only or benchmarks.only(cfg["models"])
    names = [n for n in cfg["models"] if n in only] if only else list(cfg["models"])
    registered = {s.name for s in tfmodels.list_models()}
    kept = _previous_models(names) if only else {}
    result = {"config": cfg, "models": kept, "missing": [n for n in names if n not in registered], "errors": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            if name not in registered:
                continue
            mcfg = cfg["models"][name]
            start = time.perf_counter()
            try:
                keras.backend.clear_session()
                item = _train_gcn(mcfg, data_dir) if name == "gcn" else _train_standard(name, mcfg, data_dir)
                train_s = time.perf_counter() - start
                entry = _measure(name, item, cfg, Path(tmp))
                entry["train_seconds"] = round(train_s, 1)
                entry["seconds"] = round(time.perf_counter() - start, 1)
                entry["date"] = benchmarks.now()
                result["models"][name] = entry
            except Exception as e:
                result["errors"][name] = f"{type(e).__name__}: {e}"[:800]
                traceback.print_exc()
            print(f"edge: {name} done in {time.perf_counter() - start:.0f}s", flush=True)
    result["models"] = {n: result["models"][n] for n in cfg["models"] if n in result["models"]}
    cnn = [n for n in ("seed_cnn", "mobilenet_v2", "resnet") if n in result["models"]]
    result["cnn_int8_at_least_as_fast_as_onnxruntime_fp32"] = _cnn_verdict(result, cnn)
    return result


def _cnn_verdict(result, cnn):
    return {n: {f"{t}t": result["models"][n].get(f"litert_int8_over_onnxruntime_fp32_{t}t", float("inf")) <= 1.0
                for t in CONFIG["threads"]} for n in cnn}
