"""Foundation: seed CNN on digits, trained by tfmodels.train.fit, exported to all modes.

Records test accuracy per mode, file sizes, LiteRT latency per mode beside Keras
``predict`` and the SavedModel signature on one sample, and the trainer's
throughput beside a plain hand-written ``model.fit`` of the same model and data.
"""
import tempfile
import time
from pathlib import Path

import numpy as np

import tfmodels
import tensorflow as tf  # after tfmodels, which selects tf_keras behind tf.keras
from tfmodels import convert, keras, train
from tfmodels.data import load_splits
from tfmodels.rundir import RunDir

EPOCHS = 40
LEARNING_RATE = 2e-3
SCHEDULE = "cosine"
THROUGHPUT_EPOCHS = 15  # digits epochs last ~0.25 s: 6 epochs x 3 rounds left the ratio +-0.1
THROUGHPUT_ROUNDS = 5
SEEDS = (0, 1, 2)  # the headline figure is seed 0 (the default); the others show the spread


def _p50_ms(fn, runs=200, warmup=20) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1e3)


def _plain_fit_samples_per_s(splits, epochs: int) -> float:
    """The baseline: the same model compiled and fitted by hand on numpy arrays."""
    keras.utils.set_random_seed(0)
    model = tfmodels.build("seed_cnn")
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    times = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_test_begin(self, logs=None):
            times.append(time.perf_counter() - self.start)

    (x, y), val = splits.train, splits.val
    model.fit(x, y, batch_size=32, epochs=epochs, validation_data=val, callbacks=[Timer()], verbose=0)
    return len(x) * (epochs - 1) / sum(times[1:])


def throughput(splits, epochs: int = THROUGHPUT_EPOCHS, rounds: int = THROUGHPUT_ROUNDS) -> tuple[float, float]:
    """Median samples/s of plain ``model.fit`` and of the trainer, alternating runs so
    machine load hits both alike."""
    plain, ours = [], []
    for _ in range(rounds):
        plain.append(_plain_fit_samples_per_s(splits, epochs))
        ours.append(train.fit("seed_cnn", splits, epochs=epochs, verbose=0).metrics["samples_per_s"])
    return float(np.median(plain)), float(np.median(ours))


def run(data_dir) -> dict:
    splits = load_splits("digits")
    x_test, y_test = splits.test
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "seed_cnn"
        result = train.fit("seed_cnn", "digits", epochs=EPOCHS, learning_rate=LEARNING_RATE,
                           schedule=SCHEDULE, out_dir=run_dir, verbose=0)
        report = convert.export(run_dir, modes=convert.MODES, parity_samples=len(y_test), latency_runs=200)
        sample = x_test[:1]
        keras_p50 = _p50_ms(lambda: result.model.predict(sample, verbose=0))
        keras_call_p50 = _p50_ms(lambda: result.model(sample, training=False))
        serving = tf.saved_model.load(str(RunDir(run_dir).saved_model)).signatures["serving_default"]
        saved_p50 = _p50_ms(lambda: serving(inputs=tf.constant(sample)))
    other_seeds = [train.fit("seed_cnn", "digits", epochs=EPOCHS, learning_rate=LEARNING_RATE,
                             schedule=SCHEDULE, seed=seed, verbose=0).metrics["test_accuracy"]
                   for seed in SEEDS[1:]]
    plain, ours = throughput(splits)
    modes = report["modes"]
    out = {
        "float_test_accuracy": result.metrics["test_accuracy"],
        "float_test_accuracy_by_seed": [result.metrics["test_accuracy"], *other_seeds],
        **{f"{m}_test_accuracy": modes[m]["accuracy"] for m in ("int8", "dynamic", "float16")},
        "float32_tflite_test_accuracy": modes["float32"]["accuracy"],
        "float32_tflite_bytes": modes["float32"]["bytes"],
        "int8_tflite_bytes": modes["int8"]["bytes"],
        "dynamic_tflite_bytes": modes["dynamic"]["bytes"],
        "float16_tflite_bytes": modes["float16"]["bytes"],
        "int8_size_ratio": modes["int8"]["bytes"] / modes["float32"]["bytes"],
        **{f"litert_{m}_p50_ms": modes[m]["p50_ms_1t"] for m in convert.MODES},
        **{f"litert_{m}_p50_ms_2t": modes[m]["p50_ms_2t"] for m in convert.MODES},
        "keras_predict_p50_ms": keras_p50,
        "keras_call_p50_ms": keras_call_p50,
        "savedmodel_p50_ms": saved_p50,
        "trainer_samples_per_s": ours,
        "plain_fit_samples_per_s": plain,
        "trainer_throughput_ratio": ours / plain,
        "builtin_only": all(m["builtin_only"] for m in modes.values()),
        "config": {"model": "seed_cnn", "data": "digits", "epochs": EPOCHS, "batch_size": 32,
                   "learning_rate": LEARNING_RATE, "schedule": SCHEDULE, "seeds": list(SEEDS),
                   "throughput_epochs": THROUGHPUT_EPOCHS, "throughput_rounds": THROUGHPUT_ROUNDS, "representative_samples": 500,
                   "test_examples": int(len(y_test))},
    }
    return out
