"""The edge kit (export/, import tfmodels_edge) against tiny Keras models converted here.

TensorFlow is used only to build the reference models and their .tflite files; the kit
itself must run without it, which the fresh-venv test checks for real.
"""

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

os.environ["TF_USE_LEGACY_KERAS"] = "1"

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402
from ai_edge_litert.interpreter import Interpreter  # noqa: E402

from tfmodels_edge import EdgeModel, InputError, InvalidModelError, check_tflite  # noqa: E402

EXPORT_DIR = Path(__file__).resolve().parents[2] / "export"
pytestmark = pytest.mark.filterwarnings("ignore:Statistics for quantized inputs were expected")


def _blobs(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """8x8 images, class k = a bright 3x3 patch at one of three places over faint noise."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = rng.uniform(0.0, 0.2, (n, 8, 8, 1)).astype("float32")
    for i, k in enumerate(y):
        r = (0, 3, 5)[k]
        x[i, r : r + 3, r : r + 3, 0] += 0.8
    return x, y


def _convert(converter: "tf.lite.TFLiteConverter", path: Path, representative=None) -> Path:
    if representative is not None:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([x[None]] for x in representative)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    path.write_bytes(converter.convert())
    return path


class _TwoSignatures(tf.Module):
    @tf.function(input_signature=[tf.TensorSpec([1, 3], tf.float32, name="x")])
    def double(self, x):
        return {"y": 2.0 * x}

    @tf.function(input_signature=[tf.TensorSpec([1, 3], tf.float32, name="x")])
    def square(self, x):
        return {"y": x * x}


@pytest.fixture(scope="module")
def m(tmp_path_factory):
    """Trained blob classifier (batch fixed at 1 and free), a 2-input model, their .tflite files."""
    tmp = tmp_path_factory.mktemp("edge")
    tf.keras.utils.set_random_seed(0)
    layers = [
        tf.keras.layers.Conv2D(4, 3, activation="relu"),
        tf.keras.layers.Flatten(),
        tf.keras.layers.Dense(3),
        tf.keras.layers.Softmax(),
    ]

    def classifier(batch_size):
        inputs = tf.keras.Input((8, 8, 1), batch_size=batch_size, name="image")
        out = inputs
        for layer in layers:
            out = layer(out)
        return tf.keras.Model(inputs, out)

    free, fixed = classifier(None), classifier(1)  # same layers, so same weights
    x_train, y_train = _blobs(300, seed=0)
    free.compile(tf.keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy")
    free.fit(x_train, y_train, epochs=8, batch_size=32, verbose=0)

    a, b = tf.keras.Input((4,), name="a"), tf.keras.Input((3,), name="b")
    joined = tf.keras.layers.Concatenate()([tf.keras.layers.Dense(5, activation="tanh")(a), b])
    two = tf.keras.Model([a, b], tf.keras.layers.Dense(2, name="out")(joined))

    module = _TwoSignatures()
    functions = [module.double.get_concrete_function(), module.square.get_concrete_function()]
    from_keras = tf.lite.TFLiteConverter.from_keras_model
    x_test, y_test = _blobs(40, seed=1)
    return {
        "free": free, "two": two, "x": x_test, "y": y_test, "tmp": tmp,
        "float": _convert(from_keras(fixed), tmp / "float.tflite"),
        "int8": _convert(from_keras(fixed), tmp / "int8.tflite", representative=x_train[:100]),
        "free_float": _convert(from_keras(free), tmp / "free.tflite"),
        "two_inputs": _convert(from_keras(two), tmp / "two.tflite"),
        "signatures": _convert(tf.lite.TFLiteConverter.from_concrete_functions(functions, module), tmp / "sigs.tflite"),
    }


# -- inference -------------------------------------------------------------------------


def test_float_predict_matches_keras_exact_batch_loop_and_missing_batch_dim(m):
    model, x = EdgeModel(m["float"]), m["x"]
    expected = m["free"].predict(x, verbose=0)
    assert model.input_details[0]["shape"].tolist() == [1, 8, 8, 1]
    np.testing.assert_allclose(model.predict(x[:1]), expected[:1], atol=1e-5)  # exact shape
    np.testing.assert_allclose(model.predict(x[3]), expected[3:4], atol=1e-5)  # no batch dim
    looped = model.predict(x)  # 40 samples through a batch-1 model, one by one
    assert looped.shape == (40, 3)
    np.testing.assert_allclose(looped, expected, atol=1e-5)
    assert not model.is_quantized and model.signatures == ["serving_default"]
    assert model.size_bytes == m["float"].stat().st_size


def test_free_batch_model_runs_the_whole_batch_at_once(m):
    model, x = EdgeModel(m["free_float"]), m["x"]
    assert model.input_details[0]["shape_signature"].tolist() == [-1, 8, 8, 1]
    np.testing.assert_allclose(model.predict(x[:7]), m["free"].predict(x[:7], verbose=0), atol=1e-5)
    assert model.input_details[0]["shape"].tolist() == [7, 8, 8, 1]  # resized, not looped


def test_int8_predict_is_close_to_keras_and_agrees_on_clear_inputs(m):
    model, x = EdgeModel(m["int8"]), m["x"]
    assert model.is_quantized
    out_scale = model.output_details[0]["quantization"][0]
    got, expected = model.predict(x), m["free"].predict(x, verbose=0)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, atol=2 * out_scale)  # measured: under 1 step
    clear = np.sort(expected, axis=1)[:, -1] - np.sort(expected, axis=1)[:, -2] > 0.2
    assert clear.sum() >= 30
    np.testing.assert_array_equal(got.argmax(1)[clear], expected.argmax(1)[clear])
    assert (expected.argmax(1) == m["y"]).mean() > 0.9  # the reference model did learn


def test_quantization_uses_the_tensors_own_parameters(m):
    model, x = EdgeModel(m["int8"]), m["x"][:1] * 1.7 - 0.3  # partly outside the input range
    (in_scale, in_zero), (out_scale, out_zero) = (
        model.input_details[0]["quantization"], model.output_details[0]["quantization"])
    assert (in_scale, in_zero) != (1.0, 0) and (out_scale, out_zero) != (1.0, 0)
    q = np.clip(np.round(x / in_scale + in_zero), -128, 127).astype(np.int8)
    assert (q == -128).any() and (q == 127).any()  # the clipping is exercised
    raw = Interpreter(model_path=str(m["int8"]))
    raw.allocate_tensors()
    raw.set_tensor(raw.get_input_details()[0]["index"], q)
    raw.invoke()
    raw_out = raw.get_tensor(raw.get_output_details()[0]["index"])
    by_hand = (raw_out.astype(np.float32) - out_zero) * np.float32(out_scale)
    np.testing.assert_array_equal(model.predict(x), by_hand)
    np.testing.assert_array_equal(model.predict(q), by_hand)  # int8 input = already quantized


def test_wrong_shape_and_dtype_raise_input_error_naming_both(m):
    model = EdgeModel(m["float"])
    with pytest.raises(InputError) as e:
        model.predict(np.zeros((8, 7)))
    assert "'image'" in str(e.value) and "(1, 8, 8, 1) float32" in str(e.value) and "(8, 7) float64" in str(e.value)
    with pytest.raises(InputError, match=r"\(1, 8, 8, 1\) float32.*\(2, 8, 9, 1\)"):
        model.predict(np.zeros((2, 8, 9, 1)))
    for bad in (np.full((1, 8, 8, 1), "a"), np.zeros((1, 8, 8, 1), complex), np.empty((1, 8, 8, 1), object)):
        with pytest.raises(InputError, match=r"expected input 'image' of shape \(1, 8, 8, 1\) float32, given \(1, 8, 8, 1\)"):
            model.predict(bad)
    ints = np.ones((1, 8, 8, 1), np.int64)  # an int image is cast, not refused
    np.testing.assert_allclose(model.predict(ints), model.predict(ints.astype(np.float32)))


def test_two_input_model_runs_by_name_and_checks_names(m):
    model = EdgeModel(m["two_inputs"])
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(5, 4)).astype("float32"), rng.normal(size=(5, 3)).astype("float32")
    out = model.run(a=a, b=b)
    assert list(out) == ["out"]
    np.testing.assert_allclose(out["out"], m["two"].predict([a, b], verbose=0), atol=1e-5)
    np.testing.assert_allclose(model.run(a=a[0], b=b[0])["out"], out["out"][:1], atol=1e-6)
    with pytest.raises(InputError, match=r"missing input\(s\) \['b'\].*\['a', 'b'\]"):
        model.run(a=a)
    with pytest.raises(InputError, match=r"unknown input\(s\) \['c'\].*\['a', 'b'\]"):
        model.run(a=a, b=b, c=b)
    with pytest.raises(InputError, match="use run"):
        model.predict(a)


def test_each_sample_starts_from_zero_state_in_a_stateful_lstm(m):
    """A non-unrolled LSTM at batch 1 converts to the fused op, which keeps h and c in
    variable tensors across invocations; predict() and run() reset them per sample."""
    tf.keras.utils.set_random_seed(0)
    inputs = tf.keras.Input((5, 2), batch_size=1, name="series")
    lstm = tf.keras.Model(inputs, tf.keras.layers.LSTM(3, name="lstm")(inputs))
    lstm.set_weights([w * 3 for w in lstm.get_weights()])  # large weights: state matters
    path = _convert(tf.lite.TFLiteConverter.from_keras_model(lstm), m["tmp"] / "lstm.tflite")
    model = EdgeModel(path)
    assert "UNIDIRECTIONAL_SEQUENCE_LSTM" in model.ops()
    x = np.random.default_rng(0).normal(size=(4, 5, 2)).astype("float32")
    expected = lstm.predict(x, verbose=0)
    np.testing.assert_allclose(model.predict(x), expected, atol=1e-5)
    np.testing.assert_allclose(model.predict(x[1]), expected[1:2], atol=1e-5)  # after x[3]'s state
    (name,) = model.run(series=x)
    np.testing.assert_allclose(model.run(series=x)[name], expected, atol=1e-5)


def test_several_signatures_are_chosen_by_name(m):
    model, x = EdgeModel(m["signatures"]), np.array([[1.0, 2.0, 3.0]], np.float32)
    assert model.signatures == ["double", "square"]
    np.testing.assert_array_equal(model.run(signature="square", x=x)["y"], x * x)
    np.testing.assert_array_equal(model.run(signature="double", x=x)["y"], 2 * x)
    with pytest.raises(InputError, match=r"signature= one of \['double', 'square'\]"):
        model.run(x=x)
    with pytest.raises(InputError, match="unknown signature 'cube'"):
        model.run(signature="cube", x=x)


def test_one_model_shared_by_threads_gives_the_same_answers(m):
    """Threads feed different batch sizes to one free-batch model, so each call resizes it."""
    model, x = EdgeModel(m["free_float"]), m["x"]
    expected = {n: model.predict(x[:n]) for n in (1, 2, 3, 4)}
    results, errors = {}, []

    def work(n):
        try:
            results[n] = [model.predict(x[:n]) for _ in range(25)]
        except Exception as e:  # noqa: BLE001 - reported by the assertion below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in expected]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for n, outs in results.items():
        for out in outs:
            np.testing.assert_array_equal(out, expected[n])


def test_benchmark_reports_ordered_positive_percentiles(m):
    model = EdgeModel(m["int8"])
    for threads in (1, 2):
        stats = model.benchmark(runs=30, warmup=3, num_threads=threads)
        assert set(stats) == {"p50_ms", "p90_ms", "p99_ms", "mean_ms", "runs", "threads"}
        assert 0 < stats["p50_ms"] <= stats["p90_ms"] <= stats["p99_ms"] and stats["mean_ms"] > 0
        assert stats["runs"] == 30 and stats["threads"] == threads


def test_ops_are_read_from_the_model(m):
    assert EdgeModel(m["float"]).ops() == ["CONV_2D", "RESHAPE", "FULLY_CONNECTED", "SOFTMAX"]


# -- bad files -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["float", "int8"])
def test_truncated_files_are_rejected_in_process(m, kind, tmp_path):
    data = m[kind].read_bytes()
    for i in range(1, 20):
        cut = len(data) * i // 20
        with pytest.raises(InvalidModelError, match="truncated or corrupt"):
            check_tflite(data[:cut])  # our own check, before LiteRT's verifier
        path = tmp_path / f"cut{i}.tflite"
        path.write_bytes(data[:cut])
        with pytest.raises(InvalidModelError, match=f"cut{i}.tflite"):
            EdgeModel(path)
    assert check_tflite(data) == ["builtin:3", "builtin:22", "builtin:9", "builtin:25"]


def test_other_bad_files_raise_clear_errors(m, tmp_path):
    cases = {
        "empty.tflite": (b"", "empty"),
        "random.tflite": (np.random.default_rng(0).bytes(4096), "not a TFLite model"),
        "header_only.tflite": (m["float"].read_bytes()[:8], "truncated or corrupt"),
        "junk_after_header.tflite": (b"\x08\x00\x00\x00TFL3" + b"\xff" * 64, "truncated or corrupt"),
    }
    for name, (data, message) in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(InvalidModelError, match=message):
            EdgeModel(tmp_path / name)
    with pytest.raises(FileNotFoundError, match="model file not found"):
        EdgeModel(tmp_path / "missing.tflite")
    with pytest.raises(InvalidModelError, match="not a file"):
        EdgeModel(tmp_path)


# -- command line ----------------------------------------------------------------------


def _cli(*args: str, python: str = sys.executable) -> subprocess.CompletedProcess:
    return subprocess.run([python, "-m", "tfmodels_edge", *map(str, args)], capture_output=True, text=True, timeout=120)


def test_cli_predict_benchmark_inspect_print_json(m):
    x_path = m["tmp"] / "x.npy"
    np.save(x_path, m["x"][:4])
    done = _cli("predict", m["float"], "--input", x_path)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    expected = m["free"].predict(m["x"][:4], verbose=0)
    np.testing.assert_allclose(result["outputs"][0], expected, atol=1e-5)
    assert result["top1"] == expected.argmax(1).tolist()

    done = _cli("benchmark", m["int8"], "--runs", "20", "--threads", "2")
    stats = json.loads(done.stdout)
    assert stats["runs"] == 20 and stats["threads"] == 2 and 0 < stats["p50_ms"] <= stats["p99_ms"]

    info = json.loads(_cli("inspect", m["int8"]).stdout)
    assert info["quantized"] and info["size_bytes"] == m["int8"].stat().st_size
    assert info["inputs"][0]["shape"] == [1, 8, 8, 1] and info["inputs"][0]["dtype"] == "int8"
    assert info["inputs"][0]["quantization"]["scale"] > 0 and info["execution_order"][0] == "CONV_2D"
    assert [o["op"] for o in info["ops"]] == sorted(info["execution_order"]) and info["builtin_only"]

    a, b = m["tmp"] / "a.npy", m["tmp"] / "b.npy"
    np.save(a, np.ones((2, 4), np.float32))
    np.save(b, np.ones((2, 3), np.float32))
    labels = m["tmp"] / "two_labels.txt"
    labels.write_text("left\nright\n")
    answer = json.loads(_cli("predict", m["two_inputs"], "--input", f"a={a}", "--input", f"b={b}",
                             "--labels", labels).stdout)
    expected = m["two"].predict([np.ones((2, 4)), np.ones((2, 3))], verbose=0)
    np.testing.assert_allclose(answer["outputs"]["out"], expected, atol=1e-5)
    # several inputs (a graph model's arrays) still name the class of each row
    assert answer["top1"] == expected.argmax(1).tolist()
    assert answer["top1_label"] == [["left", "right"][i] for i in expected.argmax(1)]


def test_cli_errors_are_one_line_and_exit_2(m, tmp_path):
    bad_model = tmp_path / "bad.tflite"
    bad_model.write_bytes(m["float"].read_bytes()[:1000])
    bad_input = tmp_path / "bad.npy"
    np.save(bad_input, np.zeros((8, 7)))
    for args in (
        ("inspect", bad_model),
        ("benchmark", tmp_path / "missing.tflite"),
        ("predict", m["float"], "--input", bad_input),
    ):
        done = _cli(*args)
        assert done.returncode == 2, done
        assert "Traceback" not in done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr


# -- installation ----------------------------------------------------------------------


def test_installs_in_fresh_venv_without_tensorflow(m, tmp_path):
    """pip-install export/ with numpy and LiteRT into a new venv; it predicts without TensorFlow."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", venv], check=True, timeout=120)
    python, console = venv / "bin" / "python", venv / "bin" / "tfmodels-edge"
    source = shutil.copytree(EXPORT_DIR, tmp_path / "src", ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    pip = subprocess.run(
        [python, "-m", "pip", "install", "-q", source, "numpy", "ai-edge-litert==2.3.0"],
        capture_output=True, text=True, timeout=540, env=env,
    )
    assert pip.returncode == 0, pip.stderr[-3000:]

    x, expected = m["x"][:5], m["free"].predict(m["x"][:5], verbose=0)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "expected.npy", expected)
    script = f"""
import sys
import numpy as np
try:
    import tensorflow
except ModuleNotFoundError:
    pass
else:
    sys.exit("tensorflow is importable in the fresh venv")
from tfmodels_edge import EdgeModel
model = EdgeModel({str(m["float"])!r})
np.testing.assert_allclose(model.predict(np.load({str(tmp_path / "x.npy")!r})),
                           np.load({str(tmp_path / "expected.npy")!r}), atol=1e-5)
assert not any(name.split(".")[0] == "tensorflow" for name in sys.modules)
print("ok")
"""
    done = subprocess.run([python, "-c", script], capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
    done = subprocess.run(
        [console, "predict", m["float"], "--input", tmp_path / "x.npy"],
        capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    np.testing.assert_allclose(json.loads(done.stdout)["outputs"][0], expected, atol=1e-5)


def test_embedded_labels_are_read_back_and_a_damaged_archive_is_one_clear_error(m, tmp_path):
    """Labels in the model's TFLite metadata (tfmodels.convert.metadata) come back without a
    labels.txt beside the file; a damaged archive after the flatbuffer is an InputError."""
    from tfmodels.convert.metadata import embed
    from tfmodels_edge.inputs import embedded_files

    data = embed(m["float"].read_bytes(), {"labels.txt": b"red\ngreen\nblue\n"}, model_name="blobs")
    assert embedded_files(data) == {"labels.txt": 15} and embedded_files(m["float"].read_bytes()) == {}
    path = tmp_path / "with_labels.tflite"
    path.write_bytes(data)
    model = EdgeModel(path)
    assert model.labels == ["red", "green", "blue"] and model.embedded_files == {"labels.txt": 15}
    np.testing.assert_array_equal(model.predict(m["x"][:4]), EdgeModel(m["float"]).predict(m["x"][:4]))
    at = data.rindex(b"red\ngreen")  # flip the stored label bytes: the archive's CRC no longer matches
    damaged = tmp_path / "damaged.tflite"
    damaged.write_bytes(data[:at] + b"rez" + data[at + 3:])
    with pytest.raises(InputError, match="embedded labels.txt is damaged"):
        EdgeModel(damaged).labels
    (tmp_path / "labels.txt").write_text("a\nb\nc\n")  # a file beside the model wins
    assert EdgeModel(damaged).labels == ["a", "b", "c"]
