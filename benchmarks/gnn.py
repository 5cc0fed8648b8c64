"""GNN benchmark: Cora node classification, MUTAG/PROTEINS CV, Cora link prediction,
GCN epoch time against PyTorch Geometric, TFLite export of two edge models.

PyG runs in its own venv (``.venv-bench-pyg``: torch 2.13.0 CPU, installed by name through
pip's configured sources, + torch_geometric; :mod:`benchmarks._torch_env`), created on
first use, on the same arrays (saved to .npz) in the same run. Where torch cannot be
installed, the result says why and records no ratio.
``GNN_BENCH_QUICK=1`` runs the reduced configuration (recorded under "config").
``TFMODELS_BENCH_ONLY=gat`` reruns the named parts (Cora models gcn, gat, gatv2, graphsage, gin;
pyg, link, edge, recommender; mutag_gin, proteins_gcn, ... for the TU parts) and keeps the rest;
``sections`` dates each part. The TU parts run in parallel, one process per core.
"""
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import benchmarks

ROOT = Path(__file__).resolve().parents[1]
PYG_VENV = ROOT / ".venv-bench-pyg"

FULL = {"cora_seeds": {"gcn": 10, "gat": 10, "gatv2": 10, "graphsage": 10, "gin": 10, "mpnn": 10, "gated_gnn": 10},
        "cora_epochs": 200,
        "tu_folds": 10, "tu_epochs": {"MUTAG": 350, "PROTEINS": 350}, "tu_models": ["gin", "gcn", "gated_gnn"],
        "link_epochs": 200, "pyg_epochs": 200, "pyg_seeds": 3, "recommender_splits": 10}
QUICK = {"cora_seeds": {"gcn": 10, "gat": 1, "gatv2": 1, "graphsage": 1, "gin": 1, "mpnn": 1, "gated_gnn": 1},
         "cora_epochs": 200, "cora_epochs_slow": 60,
         "tu_folds": 10, "tu_epochs": {"MUTAG": 50, "PROTEINS": 10}, "tu_models": ["gin", "gcn", "gated_gnn"],
         "link_epochs": 200, "pyg_epochs": 50, "pyg_seeds": 1, "recommender_splits": 3}


def _log(*a):
    print(*a, file=sys.stderr, flush=True)


def _pyg_python() -> Path:
    from benchmarks._torch_env import python

    return python(PYG_VENV, extra=("torch_geometric", "numpy"))


def cora_models(config, seconds):
    """Every node model on Cora through ``tfmodels.train.fit``, its paper setup (200 epochs,
    the best validation epoch kept), one run per seed; each model's time into ``seconds``."""
    import tensorflow as tf

    from tfmodels import train

    kwargs = {"gat": {"attention": "gat"}, "gatv2": {"attention": "gatv2"},
              # GIN on Cora as measured since 2026-12-04: no BatchNorm (Xu et al.'s is for graph batches)
              "gin": {"hidden_units": 64, "num_layers": 2, "dropout": 0.5, "batch_norm": False},
              # the registry defaults (sum of messages, no dropout) overfit Cora's 140 labels: 58.5 and 73.1
              "mpnn": {"hidden_units": 64, "aggregation": "mean", "dropout": 0.5},
              "gated_gnn": {"hidden_units": 64, "steps": 2, "dropout": 0.5}}
    results, gcn_times = {}, []
    for name, seeds in config["cora_seeds"].items():
        epochs = config["cora_epochs"] if name == "gcn" else config.get("cora_epochs_slow", config["cora_epochs"])
        accs = []
        with benchmarks.timed(seconds, name):
            for seed in range(seeds):
                tf.keras.backend.clear_session()
                m = train.fit("gat" if name == "gatv2" else name, "cora", epochs=epochs, seed=seed, verbose=0,
                              model_kwargs=kwargs.get(name)).metrics
                accs.append(m["test_accuracy"])
                if name == "gcn":
                    gcn_times.append(1000 * m["epoch_seconds"])
                _log(name, seed, {k: m[k] for k in ("test_accuracy", "val_accuracy", "selected_epoch", "epoch_seconds")})
            results[name] = {"test_accuracy_mean": float(np.mean(accs)), "test_accuracy_std": float(np.std(accs)),
                             "seeds": seeds, "epochs": epochs, "per_seed": accs}
    return results, gcn_times


#: GCN on TU graphs: Xu et al.'s GCN baseline (3 layers of 32, sum readout, no dropout)
TU_GCN = {"pooling": "sum", "hidden_units": 32, "num_layers": 3, "dropout": 0.0, "weight_decay": 0.0}


def _tu_job(job) -> tuple:
    """One ``(dataset, model, protocol)`` of :func:`tu_models`, in a worker process on one
    thread: batches of 32 small graphs are too small for a second thread to help (one
    thread trained GIN and GCN on PROTEINS as fast as two, 2026-12-08), so the machine's
    cores each take a job instead."""
    ds, name, protocol, folds, epochs, data_dir = job
    from tfmodels._keras import tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    from tfmodels.data.graphs import load_tu
    from tfmodels.models.gnn.tasks import cross_validate, fair_cross_validate

    # each with GIN's setup (Xu et al.: batch 32, 0.01 halved every 50 epochs)
    setup = dict(folds=folds, epochs=epochs, batch_size=32, learning_rate=0.01, schedule="step",
                 model_kwargs=TU_GCN if name == "gcn" else None)
    start = time.perf_counter()
    result = (cross_validate if protocol == "xu" else fair_cross_validate)(name, load_tu(ds, data_dir), **setup)
    return ds, name, protocol, result, time.perf_counter() - start


def tu_models(data_dir, config, runs) -> dict:
    """GIN, GCN and the gated GNN on TU graph classification under two protocols, each
    10-fold: Xu et al.'s (the epoch chosen on the mean test-fold curve: the paper's
    figure, optimistic) and Errica et al.'s (the epoch chosen on validation graphs held
    out inside each fold: what a user can expect). ``runs``: ``(dataset, model)`` pairs;
    returns ``{dataset: {model: figures}}``, each with ``seconds`` (its two protocols'
    time on one thread each) and ``tu_wall_seconds``, the whole set's wall time.

    Each (dataset, model, protocol) is a job for a pool of one process per core, the
    largest datasets first.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    jobs = [(ds, name, protocol, config["tu_folds"], config["tu_epochs"][ds], data_dir)
            for ds, name in sorted(runs, key=lambda r: r[0] != "PROTEINS") for protocol in ("xu", "fair")]
    out, start = {}, time.perf_counter()
    if not jobs:
        return out
    with ProcessPoolExecutor(min(len(jobs), os.cpu_count() or 1),
                             mp_context=multiprocessing.get_context("spawn")) as pool:
        for done in as_completed([pool.submit(_tu_job, job) for job in jobs]):
            ds, name, protocol, result, seconds = done.result()
            _log(ds, name, protocol, f"{seconds:.0f} s", result)
            r = out.setdefault(ds.lower(), {}).setdefault(name, {"epochs": config["tu_epochs"][ds], "seconds": 0.0})
            r |= result | {"seconds": round(r["seconds"] + seconds, 1)}
    wall = round(time.perf_counter() - start, 1)
    for models in out.values():
        for r in models.values():
            r["tu_wall_seconds"] = wall
    return out


def link_prediction(data_dir, config):
    """GAE on Cora's held-out citations through the one trainer (best validation AUC kept)."""
    from tfmodels import train

    m = train.fit("gae", "cora-links", data_dir=data_dir, epochs=config["link_epochs"], verbose=0).metrics
    r = {"test_auc": m["test_auc"], "val_auc": m["val_auc"], "selected_epoch": m["selected_epoch"]}
    _log("gae", r)
    return r


def pyg_gcn(split, config):
    g = split.graph
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cora.npz"
        np.savez(path, x=g.node_features, source=g.source, target=g.target, y=g.node_labels,
                 train=split.train, val=split.val, test=split.test, hidden=16)
        runs = []
        for seed in range(config["pyg_seeds"]):
            out = subprocess.run([str(_pyg_python()), str(ROOT / "benchmarks/_gnn_pyg.py"), str(path),
                                  str(config["pyg_epochs"]), str(seed)], check=True, capture_output=True, text=True)
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
            _log("pyg", runs[-1])
    return runs


def tfgnn_gcn_time(epochs=20):
    """Epoch time of our GCNConv against TF-GNN's own GCN layer, through the same trainer."""
    from tfmodels import train

    return {f"{impl}_dense": 1000 * train.fit("gcn", "cora", epochs=epochs, select="last", verbose=0,
                                              model_kwargs={"implementation": impl}).metrics["epoch_seconds"]
            for impl in ("tfgnn", "fast")}


def export_edge_models():
    """Train a small GCN (Cora) and GIN (MUTAG) into run folders, export float32 + int8 with
    the parity report (the edge kit runs every .tflite), as ``tfmodels train`` + ``export`` do."""
    from tfmodels import train
    from tfmodels.convert import export

    slim = {}
    with tempfile.TemporaryDirectory() as tmp:
        for key, name, data, epochs in (("gcn_cora", "gcn", "cora", 100), ("gin_mutag", "gin", "mutag", 50)):
            run = train.fit(name, data, epochs=epochs, verbose=0, out_dir=Path(tmp) / key).out_dir
            rep = export(run, modes=("float32", "int8"), latency_runs=20)
            slim[key] = {"params": rep["params"], "inputs": rep["inputs"], "modes": {
                m: {k: e.get(k) for k in ("bytes", "builtin_only", "ops", "max_abs_diff", "top1_agreement",
                                          "accuracy", "keras_accuracy", "p50_ms_1t", "p50_ms_2t", "parity_ok")}
                for m, e in rep["modes"].items()}}
    return slim


def recommender(config):
    """The user-item GNN on Davis Southern Women (one holdout per seed) against popularity."""
    from tfmodels import train
    from tfmodels.data.graphs import davis_southern_women, interaction_splits
    from tfmodels.models.gnn.recommender import evaluate_ranking

    women, events, pairs = davis_southern_women()
    gnn, pop = [], []
    for seed in range(config["recommender_splits"]):
        splits = interaction_splits("davis-women", pairs, len(women), len(events), seed=seed)
        model = train.fit("recommender", splits, seed=seed, verbose=0).model
        (source, target, _), _ = splits.train
        train_pairs = np.stack([source[0], target[0]], 1)
        held = splits.test[0][-1][0][splits.test[1] == 1]
        score = lambda p: model([source, target, np.asarray(p, np.int32)[None]], training=False).numpy()  # noqa: E731
        degree = np.bincount(train_pairs[:, 1], minlength=len(events)).astype(float)
        gnn.append(evaluate_ranking(score, train_pairs, held, len(women), len(events)))
        pop.append(evaluate_ranking(lambda p: degree[p[:, 1]], train_pairs, held, len(women), len(events)))
    mean = lambda rows: {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}  # noqa: E731
    return {"gnn": mean(gnn), "popularity": mean(pop), "splits": config["recommender_splits"],
            "held_out_fraction": 0.2}


TU_RUNS = [(ds, m) for ds in ("MUTAG", "PROTEINS") for m in FULL["tu_models"]]  # parts mutag_gin, ...
PARTS = ("gcn", "gat", "gatv2", "graphsage", "gin", "mpnn", "gated_gnn", "pyg", "link", "edge", "recommender",
         *(f"{ds.lower()}_{m}" for ds, m in TU_RUNS))


def run(data_dir) -> dict:
    from tfmodels.data.graphs import load_planetoid

    config = QUICK if os.environ.get("GNN_BENCH_QUICK") else FULL
    only = benchmarks.only(PARTS)
    want = lambda part: not only or part in only  # noqa: E731
    previous = benchmarks.previous("gnn") if only else {}
    if previous and "sections" not in previous:  # a complete run: every part from its date
        was = f"{previous['_meta']['date']} ({'quick' if previous['config'].get('quick') else 'full'})"
        previous["sections"] = dict.fromkeys(PARTS, was)
    previous.pop("_meta", None)
    out, details, seconds = dict(previous), dict(previous.get("details", {})), {}
    split = load_planetoid("cora", data_dir)
    cora_config = {**config, "cora_seeds": {m: n for m, n in config["cora_seeds"].items() if want(m)}}
    if cora_config["cora_seeds"]:
        cora, gcn_times = cora_models(cora_config, seconds)
        out["cora"] = {**previous.get("cora", {}), **cora}
    if want("gcn"):
        details["gcn_epoch_ms_variants"] = tfgnn_gcn_time()
        out["gcn_epoch_ms"] = float(np.median(gcn_times))
    if want("pyg"):
        from benchmarks._torch_env import TorchUnavailable

        try:
            with benchmarks.timed(seconds, "pyg"):
                pyg = pyg_gcn(split, config)
        except TorchUnavailable as e:  # no ratio without a reference
            pyg = None
            details["pyg_unavailable"] = str(e)
            out.pop("pyg_gcn_epoch_ms", None)
            _log("pyg:", e)
        if pyg:
            details |= {"pyg_runs": pyg, "pyg_test_accuracy_mean": float(np.mean([r["test_accuracy"] for r in pyg]))}
            out["pyg_gcn_epoch_ms"] = float(np.median([r["epoch_ms"] for r in pyg]))
    if (want("gcn") or want("pyg")) and "pyg_gcn_epoch_ms" in out:
        out["gcn_epoch_ratio_vs_pyg"] = out["gcn_epoch_ms"] / out["pyg_gcn_epoch_ms"]
    if want("link"):
        with benchmarks.timed(seconds, "link"):
            link = details["link_prediction"] = link_prediction(data_dir, config)
        out |= {"link_prediction_auc": link["test_auc"], "link_prediction_ap": link["test_ap"]}
    if want("edge"):
        with benchmarks.timed(seconds, "edge"):
            edge = details["tflite"] = export_edge_models()
        out["tflite_max_abs_diff"] = max(e["modes"]["float32"]["max_abs_diff"] for e in edge.values())
    if want("recommender"):
        with benchmarks.timed(seconds, "recommender"):
            details["recommender_davis"] = recommender(config)
    tu = [(ds, m) for ds, m in TU_RUNS if m in config["tu_models"] and want(f"{ds.lower()}_{m}")]
    for ds, models in tu_models(data_dir, config, tu).items():
        out[ds] = {**previous.get(ds, {}), **models}
        seconds |= {f"{ds}_{name}": r["seconds"] for name, r in models.items()}
    details |= {
        "published": {"cora_gcn": 0.815, "cora_gat": 0.830, "mutag_gin": 0.894, "proteins_gin": 0.762,
                      "cora_gae_auc": 0.910},
        "protocol": "Cora: Planetoid split, weights of the best validation-accuracy epoch; TU: stratified "
                    "10-fold CV, cv_accuracy_* at the epoch with the best mean test accuracy over folds "
                    "(GIN paper protocol), last-epoch figures beside; fair_accuracy_*: Errica et al. 2020, "
                    "the epoch chosen on 10% validation graphs inside each outer fold; epoch time: tfmodels = the training "
                    "pass of one epoch of tfmodels.train.fit (one full-batch step: forward, backward, Adam, "
                    "with Keras' per-epoch work; dense features), PyG = one train step; median over seeds, "
                    "both frameworks in this run.",
    }
    quick = bool(os.environ.get("GNN_BENCH_QUICK"))
    out["details"] = details
    out["sections"] = benchmarks.sections(previous, [p for p in PARTS if want(p)], "quick" if quick else "full",
                                          seconds)
    out["config"] = config | {"quick": quick}
    if only:  # a partial rerun: the earlier configuration stands, with these Cora models' seeds
        kept = previous.get("config", {})
        out["config"] = {**kept, "cora_seeds": {**kept.get("cora_seeds", {}), **cora_config["cora_seeds"]},
                         "note": "parts rerun since ran the configuration named in sections "
                                 "(QUICK or FULL in benchmarks/gnn.py)"}
    return out
