"""The foundation end to end: train -> SavedModel -> TFLite (4 modes) -> edge kit."""
import json

import numpy as np
import pytest

import tfmodels
from tfmodels import convert, train
from tfmodels.convert import ConversionError
from tfmodels.data import load_splits


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "seed_cnn"
    result = train.fit("seed_cnn", "digits", epochs=4, batch_size=32, out_dir=out, verbose=0)
    report = convert.export(out, modes=convert.MODES, latency_runs=5)
    return out, result, report


def test_fit_learns_and_writes_the_run_directory(run):
    out, result, _ = run
    m = json.loads((out / "metrics.json").read_text())
    assert m["test_accuracy"] > 0.8 and m["history"]["loss"][-1] < m["history"]["loss"][0]
    assert m["epochs"] == 4 and m["strategy"] == "DefaultStrategy" and m["replicas"] == 1
    assert m["samples_per_s"] > 0 and m["params"] == 36054
    assert any((out / "logs").rglob("events.out.tfevents.*"))
    assert not list(out.glob(".*.tmp"))  # no half-written leftovers


def test_saved_model_has_named_signature_and_same_answers(run):
    out, result, _ = run
    import tensorflow as tf
    loaded = tf.saved_model.load(str(out / "saved_model"))
    sig = loaded.signatures["serving_default"]
    x = load_splits("digits").test[0][:8]
    served = list(sig(inputs=tf.constant(x)).values())[0].numpy()
    np.testing.assert_allclose(served, result.model.predict(x, verbose=0), atol=1e-5)
    reloaded = train.load(out)
    np.testing.assert_allclose(reloaded.predict(x, verbose=0), served, atol=1e-5)


def test_every_mode_is_builtin_only_and_answers_like_keras(run):
    out, _, report = run
    assert set(report["modes"]) == set(convert.MODES)
    for mode, entry in report["modes"].items():
        assert entry["builtin_only"] and entry["flex_ops"] == [], mode
        assert (out / "tflite" / entry["file"]).stat().st_size == entry["bytes"]
        assert entry["top1_agreement"] >= 0.98, (mode, entry["top1_agreement"])
        assert entry["parity_ok"], (mode, entry)
    f32 = report["modes"]["float32"]
    assert f32["max_abs_diff"] < 1e-4 and "CONV_2D" in {o["op"] for o in f32["ops"]}
    assert report["modes"]["int8"]["size_ratio_vs_float32"] < 0.35
    on_disk = json.loads((out / "tflite" / "export_report.json").read_text())
    assert on_disk["modes"]["int8"]["bytes"] == report["modes"]["int8"]["bytes"]


def test_int8_model_is_int8_in_and_out(run):
    out, _, _ = run
    from tfmodels_edge import EdgeModel
    edge = EdgeModel(out / "tflite" / "model_int8.tflite")
    assert edge.input_details[0]["dtype"] == np.int8 and edge.output_details[0]["dtype"] == np.int8


def test_int8_without_representative_data_and_flex_ops_are_refused(tmp_path):
    import tensorflow as tf
    model = tfmodels.build("mlp", input_shape=(4,), hidden_units=(3,), num_classes=2)
    with pytest.raises(ConversionError, match="representative"):
        convert.to_tflite(model, "int8")
    inp = tf.keras.Input((4,), name="inputs")
    odd = tf.keras.Model(inp, tf.keras.layers.Lambda(lambda t: tf.strings.as_string(t))(inp))
    with pytest.raises(ConversionError, match="allow_flex"):
        convert.to_tflite(odd, "float32")


def test_cli_export_and_eval(run, tmp_path):
    import subprocess, sys
    out, _, report = run
    proc = subprocess.run([sys.executable, "-m", "tfmodels", "eval", str(out)],
                          capture_output=True, text=True, check=True)
    figures = json.loads(proc.stdout)
    assert figures["evaluation"] == "classification" and set(figures["tflite"]) == set(convert.MODES)
    keras_acc = figures["keras"]["accuracy"]
    assert abs(figures["tflite"]["int8"]["accuracy"] - keras_acc) <= 0.02
    confusion = np.array(figures["keras"]["confusion_matrix"])
    assert confusion.shape == (10, 10) and confusion.sum() == figures["test_examples"]
    assert abs(np.trace(confusion) / confusion.sum() - keras_acc) < 1e-6
    bad = subprocess.run([sys.executable, "-m", "tfmodels", "export", str(out), "--quant", "int4"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown mode 'int4'" in bad.stderr and "Traceback" not in bad.stderr
    missing = subprocess.run([sys.executable, "-m", "tfmodels", "train", "seed_cnn", "--data", "usps",
                              "--data-dir", str(tmp_path / "none"), "--out", str(tmp_path / "r")],
                             capture_output=True, text=True)
    assert missing.returncode == 2 and "data folder not found" in missing.stderr
    assert not (tmp_path / "r").exists()
