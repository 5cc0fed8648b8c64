"""The edge kit's deployment report, `inspect`, `micro`, and `predict` on images and text.

Models are built with tf_keras and converted through tfmodels.convert (the one export
path); everything asserted here runs in tfmodels_edge without TensorFlow.
"""
import json
import subprocess
import sys

import numpy as np
import pytest

from tfmodels import convert
from tfmodels._keras import keras
from tfmodels_edge import EdgeModel, device_report, format_device_report
from tfmodels_edge import inputs as edge_inputs

pytestmark = pytest.mark.filterwarnings("ignore")


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "tfmodels_edge", *map(str, args)],
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("edge_report")
    keras.utils.set_random_seed(0)
    image = keras.Input((8, 8, 1), name="image")
    h = keras.layers.Conv2D(4, 3, activation="relu")(image)  # 6x6x4 = 144
    h = keras.layers.Flatten()(h)  # 144
    cnn = keras.Model(image, keras.layers.Dense(3, activation="softmax")(h), name="cnn")
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (64, 8, 8, 1)).astype("float32")

    words = keras.Input((6,), dtype="int32", name="ids")
    e = keras.layers.Embedding(10, 4)(words)
    clf = keras.Model(words, keras.layers.Dense(2, activation="softmax")(keras.layers.GlobalAveragePooling1D()(e)))
    chars = keras.Input((5,), dtype="int32", name="ids")
    lm = keras.Model(chars, keras.layers.Dense(4, activation="softmax")(keras.layers.Embedding(4, 8)(chars)))

    out = {"tmp": tmp, "cnn": cnn, "x": x, "clf": clf, "lm": lm}
    for name, model, mode, rep in (("float", cnn, "float32", None), ("int8", cnn, "int8", x)):
        out[name] = tmp / f"{name}.tflite"
        out[name].write_bytes(convert.to_tflite(model, mode, representative=rep))
    for name, model in (("clf", clf), ("lm", lm)):
        (tmp / name).mkdir()
        out[f"{name}_file"] = tmp / name / "model.tflite"
        out[f"{name}_file"].write_bytes(convert.to_tflite(model, "float32"))
    (tmp / "clf" / "vocab.json").write_text(json.dumps(
        {"kind": "word_vocab", "tokens": ["<pad>", "<oov>", "good", "bad", "film"]}))
    (tmp / "lm" / "vocab.json").write_text(json.dumps({"kind": "char_vocab", "chars": ["a", "b", "c"], "specials": []}))
    return out


def test_report_counts_ops_and_estimates_memory_by_hand(files):
    # tensors: input 64, conv 144, flatten 144, dense 3, softmax 3 elements; the peak is
    # at the reshape, where the conv output and its flattened copy are both live.
    for name, size in (("float", 4), ("int8", 1)):
        r = device_report(files[name], latency_runs=0)
        assert [(o["op"], o["count"], o["kind"]) for o in r["ops"]] == [
            ("CONV_2D", 1, "builtin"), ("FULLY_CONNECTED", 1, "builtin"), ("RESHAPE", 1, "builtin"),
            ("SOFTMAX", 1, "builtin")], name
        assert r["builtin_only"] and r["flex_ops"] == [] and r["subgraphs"] == 1
        assert r["memory"]["arena_peak_bytes"] == (144 + 144) * size, name
        assert r["memory"]["activations_total_bytes"] == (64 + 144 + 144 + 3 + 3) * size, name
        assert r["size_bytes"] == files[name].stat().st_size and "latency_ms" not in r
    f32, i8 = device_report(files["float"], latency_runs=0), device_report(files["int8"], latency_runs=0)
    assert f32["memory"]["weights_bytes"] >= (4 * 9 + 4 + 144 * 3 + 3) * 4 > i8["memory"]["weights_bytes"]
    assert f32["inputs"][0] == {"name": "serving_default_image:0", "shape": [1, 8, 8, 1], "dtype": "float32",
                                "quantization": None}
    q = i8["inputs"][0]["quantization"]
    assert i8["inputs"][0]["dtype"] == "int8" and q["scale"] == pytest.approx(1 / 255, rel=0.05)
    assert q["zero_point"] == -128 and i8["outputs"][0]["dtype"] == "int8"


def test_report_latency_percentiles_and_table(files):
    r = device_report(files["int8"], latency_runs=15)
    for t in ("1t", "2t"):
        lat = r["latency_ms"][t]
        assert 0 < lat["p50_ms"] <= lat["p90_ms"] <= lat["p99_ms"]
    text = format_device_report(r)
    assert "all builtin" in text and "scale=" in text and "latency 2t" in text and "tensor arena" in text


def test_cli_inspect_json_and_table(files):
    done = _cli("inspect", files["int8"], "--runs", "0")
    assert done.returncode == 0, done.stderr
    info = json.loads(done.stdout)
    assert info["execution_order"] == ["CONV_2D", "RESHAPE", "FULLY_CONNECTED", "SOFTMAX"]
    assert info["memory"]["arena_peak_bytes"] == 288 and "latency_ms" not in info and info["quantized"]
    table = _cli("inspect", files["float"], "--table", "--runs", "5")
    assert table.returncode == 0 and table.stdout.startswith("float.tflite:") and "p99" in table.stdout


def test_cli_predict_image_matches_the_array(files):
    from PIL import Image

    x = files["x"][0]
    pixels = np.round(x[..., 0] * 255).astype(np.uint8)
    png = files["tmp"] / "digit.png"
    Image.fromarray(pixels, "L").save(png)
    done = _cli("predict", files["float"], "--input", png)
    assert done.returncode == 0, done.stderr
    got = np.array(json.loads(done.stdout)["outputs"][0])
    expected = files["cnn"].predict((pixels / 255.0).astype("float32")[None, ..., None], verbose=0)
    np.testing.assert_allclose(got, expected, atol=1e-5)
    rgb = files["tmp"] / "digit_rgb.jpg"  # colour and a different size: converted to L, resized to 8x8
    Image.fromarray(np.stack([pixels] * 3, -1)).resize((16, 16)).save(rgb)
    assert len(json.loads(_cli("predict", files["int8"], "--input", rgb).stdout)["outputs"][0][0]) == 3


def test_images_without_pillow_or_of_unknown_type_fail_clearly(files, monkeypatch, tmp_path):
    detail = EdgeModel(files["float"]).input_details[0]
    (tmp_path / "a.png").write_bytes(b"")
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ImportError, match="Pillow"):
        edge_inputs.load_array(tmp_path / "a.png", detail)
    (tmp_path / "a.csv").write_text("1,2")
    done = _cli("predict", files["float"], "--input", tmp_path / "a.csv")
    assert done.returncode == 2 and "unsupported input file" in done.stderr and "Traceback" not in done.stderr


def test_cli_predict_text_with_the_vocab_beside_the_model(files):
    done = _cli("predict", files["clf_file"], "--text", "Good film, really")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    ids = np.array([[2, 4, 1, 1, 0, 0]], np.int32)  # good film , really + padding
    assert result["ids"] == [2, 4, 1, 1]
    np.testing.assert_allclose(result["outputs"], files["clf"].predict(ids, verbose=0), atol=1e-5)
    assert result["top1"] == files["clf"].predict(ids, verbose=0).argmax(1).tolist()

    lm = json.loads(_cli("predict", files["lm_file"], "--text", "cab").stdout)
    probs = files["lm"].predict(np.array([[3, 1, 2, 0, 0]], np.int32), verbose=0)
    assert lm["ids"] == [3, 1, 2] and lm["next_token"] == ["<pad>", "a", "b", "c"][probs[0, 2].argmax()]
    bad = _cli("predict", files["lm_file"], "--text", "xyz")
    assert bad.returncode == 2 and "not in the model's vocabulary" in bad.stderr
    novocab = _cli("predict", files["float"], "--text", "hello")
    assert novocab.returncode == 2 and "vocab.json" in novocab.stderr


def test_cli_micro_writes_c_sources(files, tmp_path):
    done = _cli("micro", files["int8"], "--out", tmp_path, "--name", "net")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["bytes"] == files["int8"].stat().st_size and summary["tflm_ready"]
    assert summary["resolver"] == ["AddConv2D", "AddFullyConnected", "AddReshape", "AddSoftmax"]
    source = (tmp_path / "net.c").read_text()
    assert f"const unsigned int net_len = {summary['bytes']};" in source and "aligned(16)" in source
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.c", "net.h", "net_ops.h"]
    bad = _cli("micro", files["int8"], "--out", tmp_path, "--name", "1bad-name")
    assert bad.returncode == 2 and "C symbol" in bad.stderr
