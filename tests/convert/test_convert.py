"""tfmodels.convert beyond the four modes: deployment report, int16x8, selective, QAT,
per-layer int8 error, microcontroller C arrays (compiled with gcc) and ONNX.

All on one tiny blob classifier whose op list and tensor sizes are known by hand.
"""
import json
import math
import shutil
import subprocess
import sys

import numpy as np
import pytest

from tfmodels import convert
from tfmodels._keras import keras
from tfmodels.convert import onnx as tfonnx
from tfmodels.convert import quantize

pytestmark = pytest.mark.filterwarnings("ignore")
OPS = ["CONV_2D", "FULLY_CONNECTED", "MAX_POOL_2D", "RESHAPE", "SOFTMAX"]


def _blobs(n, seed):
    """8x8 images: class k = a bright 3x3 patch at one of three places over faint noise."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = rng.uniform(0.0, 0.2, (n, 8, 8, 1)).astype("float32")
    for i, k in enumerate(y):
        r = (0, 3, 5)[k]
        x[i, r:r + 3, r:r + 3, 0] += 0.8
    return x, y


def _classifier():
    inputs = keras.Input((8, 8, 1), name="image")
    h = keras.layers.Conv2D(4, 3, activation="relu", name="conv")(inputs)  # 6x6x4
    h = keras.layers.MaxPooling2D(2, name="pool")(h)  # 3x3x4
    h = keras.layers.Flatten(name="flat")(h)  # 36
    h = keras.layers.Dense(3, name="logits")(h)
    return keras.Model(inputs, keras.layers.Softmax(name="probs")(h), name="blobs")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    keras.utils.set_random_seed(0)
    x, y = _blobs(300, 0)
    model = _classifier()
    model.compile(keras.optimizers.Adam(0.02), "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=6, batch_size=32, verbose=0)
    out = tmp_path_factory.mktemp("export")
    report = convert.export(model, out, modes=convert.QUANT_MODES, representative=x, eval_data=_blobs(60, 1),
                            latency_runs=20, representative_samples=200)
    return {"model": model, "x": x, "y": y, "out": out, "report": report}


def test_report_has_ops_io_memory_latency_and_parity_per_mode(tiny):
    report, out = tiny["report"], tiny["out"]
    assert list(report["modes"]) == list(convert.QUANT_MODES)
    io_dtype = {"float32": "float32", "dynamic": "float32", "float16": "float32", "int8": "int8",
                "int16x8": "int16", "selective": "float32"}
    for mode, e in report["modes"].items():
        assert e["builtin_only"] and e["flex_ops"] == [] and e["custom_ops"] == [], mode
        assert {o["op"] for o in e["ops"]} - {"QUANTIZE", "DEQUANTIZE"} == set(OPS), mode
        assert all(o["kind"] == "builtin" for o in e["ops"])
        assert e["inputs"][0]["shape"] == [1, 8, 8, 1] and e["outputs"][0]["shape"] == [1, 3]
        assert e["inputs"][0]["dtype"] == io_dtype[mode] == e["outputs"][0]["dtype"], mode
        assert (e["inputs"][0]["quantization"] is not None) == (io_dtype[mode] != "float32")
        for t in ("1t", "2t"):
            lat = e["latency_ms"][t]
            assert 0 < lat["p50_ms"] <= lat["p90_ms"] <= lat["p99_ms"], (mode, lat)
        assert e["top1_agreement"] >= 0.95 and e["parity_ok"], (mode, e)
        assert (out / e["file"]).stat().st_size == e["bytes"]
    assert report["modes"]["int8"]["inputs"][0]["quantization"]["scale"] == pytest.approx(1 / 255, rel=0.05)
    on_disk = json.loads((out / "export_report.json").read_text())
    assert on_disk["modes"]["int16x8"]["memory"] == report["modes"]["int16x8"]["memory"]


def test_arena_estimate_matches_the_hand_count(tiny):
    """Liveness peak at the conv (input + output live); plain sum of every activation."""
    elems = {"in": 64, "conv": 144, "pool": 36, "flat": 36, "logits": 3, "probs": 3}
    for mode, size in (("float32", 4), ("int8", 1), ("int16x8", 2)):
        m = tiny["report"]["modes"][mode]["memory"]
        assert m["arena_peak_bytes"] == (elems["in"] + elems["conv"]) * size, mode
        assert m["activations_total_bytes"] == sum(elems.values()) * size, mode
    f32 = tiny["report"]["modes"]["float32"]["memory"]
    assert f32["weights_bytes"] >= (4 * 9 + 4 + 36 * 3 + 3) * 4  # weights and biases as float32


def test_int16x8_answers_closer_than_int8_and_format_names_everything(tiny):
    modes = tiny["report"]["modes"]
    assert modes["int16x8"]["max_abs_diff"] < modes["int8"]["max_abs_diff"]
    assert modes["int8"]["memory"]["weights_bytes"] < modes["float32"]["memory"]["weights_bytes"]
    text = convert.format_report(tiny["report"])
    for mode in convert.QUANT_MODES:
        assert f"[{mode}]" in text
    assert "worst:" in text and "p99" in text and "tensor arena" in text


def test_per_layer_error_names_a_real_layer_and_ranks_it(tiny):
    q = tiny["report"]["quantization_error"]
    layers = [r["layer"] for r in q["per_layer"]]
    assert {"conv", "logits"} <= set(layers) and q["worst_layer"] in layers
    assert q["worst_rmse_over_scale"] == max(r["rmse_over_scale"] for r in q["per_layer"])
    for r in q["per_layer"]:
        assert r["scale"] > 0 and r["rmse"] >= 0 and r["elements"] > 0
        assert r["rmse_over_scale"] == pytest.approx(r["rmse"] / r["scale"])
    conv = next(r for r in q["per_layer"] if r["layer"] == "conv")
    assert conv["op"] == "CONV_2D" and conv["elements"] == 144


def _float_op_outputs(flatbuffer: bytes) -> set:
    from tfmodels_edge.report import parse

    sg = parse(flatbuffer)["subgraphs"][0]
    return {sg["tensors"][i]["name"] for op in sg["operators"] for i in op["outputs"]
            if sg["tensors"][i]["type"] == 0}


def test_selective_keeps_the_worst_layers_in_float(tiny):
    model, x = tiny["model"], tiny["x"]
    errors = tiny["report"]["quantization_error"]["per_layer"]
    ranked = sorted(errors, key=lambda r: -r["rmse_over_scale"])
    names = {r["tensor"] for r in errors}
    kw = dict(representative=x, representative_samples=200, errors=errors)
    one, info_one = quantize.selective(model, threshold=0.0, max_float_layers=1, **kw)
    two, info_two = quantize.selective(model, threshold=0.0, max_float_layers=2, **kw)
    assert info_one["float_layers"] == [ranked[0]["layer"]]
    assert info_two["float_layers"] == [ranked[0]["layer"], ranked[1]["layer"]]
    # The report's selective mode used the default threshold on the same errors.
    entry = tiny["report"]["modes"]["selective"]
    assert entry["threshold"] == quantize.SELECTIVE_THRESHOLD
    assert entry["float_layers"] == [r["layer"] for r in ranked if r["rmse_over_scale"] > quantize.SELECTIVE_THRESHOLD]
    # The denylisted ops, and only they, compute in float32.
    assert _float_op_outputs(one) & names == {ranked[0]["tensor"]}
    assert _float_op_outputs(two) & names == {ranked[0]["tensor"], ranked[1]["tensor"]}
    with pytest.raises(convert.ConversionError, match="every layer"):
        quantize.selective(model, threshold=0.0, **kw)


def test_modes_refuse_bad_requests(tiny):
    model = tiny["model"]
    for mode in ("int16x8", "selective"):
        with pytest.raises(convert.ConversionError, match="representative"):
            convert.to_tflite(model, mode)
    with pytest.raises(convert.ConversionError, match="representative"):
        convert.export(model, tiny["out"] / "bad", modes=("selective",))
    with pytest.raises(Exception, match="int4"):
        convert.to_tflite(model, "int4")
    with pytest.raises(ValueError, match="representative_samples"):
        convert.to_tflite(model, "int8", representative=tiny["x"], representative_samples=0)


def test_qat_model_exports_int8_with_its_learned_ranges(tiny):
    from tfmodels.train.qat import quantize_model
    from tfmodels_edge import EdgeModel

    qat = quantize_model(tiny["model"])
    qat.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy")
    qat.fit(tiny["x"], tiny["y"], epochs=1, batch_size=32, verbose=0)
    flatbuffer = convert.to_tflite(qat, "int8", representative=tiny["x"], representative_samples=50)
    assert set(convert.tflite_ops(flatbuffer)) - {"QUANTIZE", "DEQUANTIZE"} == set(OPS)
    path = tiny["out"] / "qat_int8.tflite"
    path.write_bytes(flatbuffer)
    edge = EdgeModel(path)
    assert edge.input_details[0]["dtype"] == np.int8
    x, y = _blobs(60, 1)
    want = qat.predict(x, verbose=0)
    got = edge.predict(x)
    assert np.mean(got.argmax(1) == want.argmax(1)) >= 0.95
    assert np.abs(got - want).max() < 0.1  # the fake-quant ranges are the int8 ranges
    # The input range the QAT layer learned is the [0, 1]-ish range of the data.
    scale, zero = edge.input_details[0]["quantization"]
    assert (127 - zero) * scale >= x.max() * 0.9


def test_micro_c_array_compiles_links_and_holds_the_model(tiny, tmp_path):
    summary = convert.to_micro(tiny["model"], tmp_path, representative=tiny["x"], name="blob_model",
                               representative_samples=50)
    data = (tmp_path / "blob_model.tflite").read_bytes()
    assert summary["bytes"] == len(data) and summary["tflm_ready"] and summary["unsupported_ops"] == []
    # int8 in and out: no QUANTIZE/DEQUANTIZE ops, exactly the model's five.
    assert summary["resolver"] == ["AddConv2D", "AddFullyConnected", "AddMaxPool2D", "AddReshape", "AddSoftmax"]
    ops_h = (tmp_path / "blob_model_ops.h").read_text()
    for method in summary["resolver"]:
        assert f"resolver.{method}()" in ops_h
    assert f"MicroMutableOpResolver<{len(summary['resolver'])}>" in ops_h
    gcc = shutil.which("gcc")
    assert gcc, "gcc is needed for this test"
    subprocess.run([gcc, "-std=c11", "-Wall", "-Werror", "-c", "blob_model.c", "-o", "blob_model.o"],
                   cwd=tmp_path, check=True)
    (tmp_path / "main.c").write_text(
        '#include <stdint.h>\n#include <stdio.h>\n#include "blob_model.h"\n'
        "int main(void) {\n"
        '  printf("%u %.4s %d\\n", blob_model_len, (const char *)blob_model + 4,'
        " (int)((uintptr_t)blob_model % 16));\n"
        "  unsigned long sum = 0; for (unsigned i = 0; i < blob_model_len; i++) sum += blob_model[i];\n"
        '  printf("%lu\\n", sum);\n  return 0;\n}\n')
    subprocess.run([gcc, "-std=c11", "-Wall", "-Werror", "main.c", "blob_model.o", "-o", "main"],
                   cwd=tmp_path, check=True)
    printed = subprocess.run([str(tmp_path / "main")], capture_output=True, text=True, check=True).stdout.split()
    assert printed == [str(len(data)), "TFL3", "0", str(sum(data))]


def test_resolver_method_names():
    from tfmodels_edge.micro import resolver_method

    assert resolver_method("DEPTHWISE_CONV_2D") == "AddDepthwiseConv2D"
    assert resolver_method("BATCH_TO_SPACE_ND") == "AddBatchToSpaceNd"
    assert resolver_method("UNIDIRECTIONAL_SEQUENCE_LSTM") == "AddUnidirectionalSequenceLSTM"
    assert resolver_method("BATCH_MATMUL") == "AddBatchMatMul"
    assert resolver_method("L2_POOL_2D") == "AddL2Pool2D"


def test_onnx_matches_keras_and_times_like_litert(tiny):
    model, x = tiny["model"], _blobs(20, 2)[0]
    onnx_bytes = tfonnx.to_onnx(model)
    session = tfonnx.onnx_session(onnx_bytes, threads=1)
    assert [i.shape for i in session.get_inputs()] == [[1, 8, 8, 1]]
    np.testing.assert_allclose(tfonnx.onnx_predict(session, x), model.predict(x, verbose=0), atol=1e-5)
    for threads in (1, 2):
        b = tfonnx.onnx_benchmark(onnx_bytes, threads=threads, runs=20, warmup=2, inputs=[x[:1]])
        assert 0 < b["p50_ms"] <= b["p90_ms"] <= b["p99_ms"] and b["threads"] == threads


def test_onnx_without_its_packages_says_what_to_install(tiny, monkeypatch):
    monkeypatch.setitem(sys.modules, "tf2onnx", None)  # import now raises ImportError
    with pytest.raises(ImportError, match=r"tfmodels\[onnx\]"):
        tfonnx.to_onnx(tiny["model"])


def test_two_input_model_calibrates_each_input_by_name(tmp_path):
    """Inputs of different widths: calibration data must reach the right input (the
    converter's input order need not be the Keras model's)."""
    from tfmodels_edge import EdgeModel

    keras.utils.set_random_seed(1)
    wide, narrow = keras.Input((16,), name="wide"), keras.Input((3,), name="narrow")
    joined = keras.layers.Concatenate()([keras.layers.Dense(4, activation="relu", name="hidden")(wide), narrow])
    model = keras.Model([wide, narrow], keras.layers.Dense(2, name="out")(joined), name="two")
    rng = np.random.default_rng(0)
    x = [rng.uniform(0, 1, (40, 16)).astype("float32"), rng.uniform(-5, 5, (40, 3)).astype("float32")]
    flatbuffer = convert.to_tflite(model, "int8", representative=x, representative_samples=40)
    path = tmp_path / "two.tflite"
    path.write_bytes(flatbuffer)
    got = next(iter(EdgeModel(path).run(wide=x[0][:10], narrow=x[1][:10]).values()))
    want = model.predict([a[:10] for a in x], verbose=0)
    assert np.abs(got - want).max() < 0.05 * np.ptp(want)
    errors = convert.layer_errors(model, x, samples=10, representative_samples=40)
    assert {"hidden", "<model output>"} <= {r["layer"] for r in errors}


def test_subclassed_model_without_inputs_asks_for_a_signature():
    from tfmodels._keras import keras
    from tfmodels.convert import ConversionError, default_signature

    class Doubler(keras.Model):
        def call(self, x):
            return 2 * x

    with pytest.raises(ConversionError, match="input_signature"):
        default_signature(Doubler())


def test_standardization_travels_in_the_metadata_of_quantized_files(tmp_path):
    """Columns on scales 1,000 apart: int8 quantizes the input with one scale, so the
    quantized files take standardized values, the mean and std ride in the metadata, and
    the edge kit applies them; damaged statistics are refused when the file is loaded."""
    from tfmodels.convert import metadata
    from tfmodels.models.mlp import mlp
    from tfmodels_edge import EdgeModel, InvalidModelError

    rng = np.random.default_rng(0)
    scales = np.array([0.01, 1.0, 1000.0], np.float32)
    x = (rng.standard_normal((600, 3)) * scales + 5 * scales).astype(np.float32)
    y = (((x - 5 * scales) / scales) @ np.array([1.0, -1.0, 1.0]) > 0).astype(np.int64)
    model = mlp(input_shape=(3,), num_classes=2, hidden_units=(16,), input_mean=x.mean(0), input_variance=x.var(0))
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x[:500], y[:500], epochs=60, batch_size=32, verbose=0)
    report = convert.export(model, tmp_path / "out", modes=("float32", "int8"), representative=x[:500],
                            eval_data=(x[500:], y[500:]), latency_runs=1, layer_errors=False)
    assert report["input_normalization"]["modes"] == ["int8"]
    int8 = EdgeModel(tmp_path / "out" / "model_int8.tflite")
    mean, std = int8.normalization[int8.input_details[0]["index"]]
    np.testing.assert_allclose(mean, x.mean(0), rtol=1e-5)
    np.testing.assert_allclose(std, x.std(0), rtol=1e-4)
    assert EdgeModel(tmp_path / "out" / "model_float32.tflite").normalization == {}
    # the smallest column decides a third of the answer: it survives quantization
    assert report["modes"]["int8"]["accuracy"] >= report["modes"]["int8"]["keras_accuracy"] - 0.02

    plain = (tmp_path / "out" / "model_float32.tflite").read_bytes()
    for mean, std, why in (([1.0, 2.0, 3.0], [1.0, 0.0, 1.0], "positive"), ([1.0, 2.0], [1.0, 1.0], "features")):
        bad = tmp_path / f"bad_{why}.tflite"
        bad.write_bytes(metadata.embed(plain, {}, normalization={0: (mean, std)}))
        with pytest.raises(InvalidModelError, match=why):
            EdgeModel(bad)


def test_the_report_counts_inputs_beyond_the_calibrated_range(tmp_path):
    """An int8 input saturates at the range seen in calibration: a held-out input past it
    (a trending series' later levels) is counted and named in the printed report."""
    inputs = keras.Input((4,), name="x")
    model = keras.Model(inputs, keras.layers.Dense(1, name="y")(inputs))
    rng = np.random.default_rng(0)
    train_x = rng.uniform(0, 1, (200, 4)).astype(np.float32)
    held = np.concatenate([rng.uniform(0, 1, (50, 4)), rng.uniform(2, 3, (50, 4))]).astype(np.float32)
    report = convert.export(model, tmp_path / "out", modes=("float32", "int8"), representative=train_x,
                            eval_data=(held, None), latency_runs=1, layer_errors=False)
    assert report["modes"]["int8"]["inputs_outside_range"] == pytest.approx(0.5, abs=0.05)
    assert "inputs_outside_range" not in report["modes"]["float32"]
    assert "50% of the held-out inputs lie outside" in convert.format_report(report)
