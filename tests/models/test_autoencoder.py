"""Autoencoders: shapes, parameter counts, their own losses, training-time noise, VAE
sampling/interpolation, save/reload, TFLite (float32 + int8) and the edge anomaly score."""
import numpy as np
import pytest

import tfmodels
from tfmodels import convert, train
from tfmodels._keras import keras, tf
from tfmodels.data import load_splits
from tfmodels.data.core import make_splits
from tfmodels.errors import TfmodelsError, UnknownNameError
from tfmodels.models import autoencoder as ae

DEFAULT_PARAMS = {"mlp_autoencoder": 476_720, "conv_autoencoder": 278_369, "sparse_autoencoder": 435_536,
                  "denoising_autoencoder": 278_369, "vae": 1_079_600}
TINY = {"mlp_autoencoder": dict(hidden_units=(32,), latent_dim=8),
        "conv_autoencoder": dict(filters=(4, 8), latent_dim=8),
        "sparse_autoencoder": dict(hidden_units=(32,), latent_dim=16, l1=1e-3),
        "denoising_autoencoder": dict(filters=(4, 8), latent_dim=8, noise_stddev=0.3, mask_rate=0.2),
        "vae": dict(hidden_units=(32,), latent_dim=4)}


@pytest.fixture(scope="module")
def digits(data_dir):
    """256 USPS training digits (16x16, values in [0, 1]) and their labels."""
    x, y = load_splits("usps", data_dir).train
    return x[:256], y[:256]


def tiny(name):
    return tfmodels.build(name, input_shape=(16, 16, 1), **TINY[name])


def test_registered_with_documented_param_counts():
    assert {s.name for s in tfmodels.list_models("autoencoder")} == set(DEFAULT_PARAMS)
    for name, params in DEFAULT_PARAMS.items():
        model = tfmodels.build(name)
        assert model.count_params() == params, name
        assert f"{params:,}" in tfmodels.get_spec(name).builder.__doc__
        assert model.encoder.input_shape == (None, 28, 28, 1)
        assert model.decoder.output_shape == (None, 28, 28, 1)
        keras.backend.clear_session()


@pytest.mark.parametrize("name", list(TINY))
def test_trains_saves_reloads_and_converts(name, digits, tmp_path):
    x, y = digits
    model = tiny(name)
    assert model(x[:3]).shape == (3, 16, 16, 1)
    assert isinstance(model.encoder, keras.Model) and isinstance(model.decoder, keras.Model)
    model.compile(keras.optimizers.Adam(3e-3))
    hist = model.fit(x, y, batch_size=64, epochs=2, verbose=0).history  # labels are ignored
    assert np.all(np.isfinite(hist["loss"])) and hist["loss"][1] < hist["loss"][0]
    assert set(hist) >= {"loss", "reconstruction_loss"}

    model.save(tmp_path / "sm", save_format="tf")
    loaded = keras.models.load_model(tmp_path / "sm")
    assert type(loaded) is type(model) and loaded.get_config() == model.get_config()
    np.testing.assert_allclose(loaded.predict(x[:8], verbose=0), model.predict(x[:8], verbose=0), atol=1e-6)
    np.testing.assert_allclose(loaded.encode(x[:8]), model.encode(x[:8]), atol=1e-6)

    for mode in ("float32", "int8"):
        flat = convert.to_tflite(model.inference_model(), mode, representative=x)
        assert not any(op.startswith("CUSTOM") for op in convert.tflite_ops(flat)), (name, mode)


def test_encoder_and_decoder_convert_builtin_only(digits):
    x, _ = digits
    for model in (tiny("conv_autoencoder"), tiny("vae")):
        codes = model.encode(x).numpy()
        for part, rep in ((model.encoder, x), (model.decoder, codes)):
            for mode in ("float32", "int8"):
                ops = convert.tflite_ops(convert.to_tflite(part, mode, representative=rep))
                assert ops and not any(op.startswith("CUSTOM") for op in ops), (part.name, mode, ops)


def test_reconstruction_error_numbers():
    x = np.array([[0.0, 1.0, 0.5, 0.5]], np.float32)
    r = np.array([[0.5, 0.5, 0.5, 1.0]], np.float32)
    np.testing.assert_allclose(ae.reconstruction_error(x, r, "mse"), [0.1875], rtol=1e-6)
    bce = -(x * np.log(r) + (1 - x) * np.log(1 - np.clip(r, 0, 1 - 1e-7))).sum()
    np.testing.assert_allclose(ae.reconstruction_error(x, r, "bce", "sum"), [bce], rtol=1e-5)
    with pytest.raises(UnknownNameError, match="mse"):
        ae.reconstruction_error(x, r, "l3")


def test_noise_only_at_training_time(digits):
    x, _ = digits
    model = tfmodels.build("denoising_autoencoder", input_shape=(16, 16, 1), filters=(4, 8), latent_dim=8,
                           noise_stddev=0.3, clip_noisy=False)
    np.testing.assert_array_equal(model(x[:16], training=True), model(x[:16], training=False))
    def loss(training):
        return float(model.loss_terms(x, None, training=training)["loss"])

    assert loss(False) == loss(False)  # evaluation sees the clean input
    assert len({loss(True), loss(True), loss(True)}) == 3  # training sees fresh noise each step
    noise = model.corrupt(x).numpy() - x
    assert np.std(noise) == pytest.approx(0.3, rel=0.03) and abs(np.mean(noise)) < 0.01
    masking = tfmodels.build("denoising_autoencoder", input_shape=(16, 16, 1), filters=(4, 8), noise_stddev=0.0,
                             mask_rate=0.25)
    ones = np.ones((64, 16, 16, 1), np.float32)
    assert np.mean(masking.corrupt(ones).numpy() == 0) == pytest.approx(0.25, abs=0.02)
    assert set(np.unique(masking.corrupt(x).numpy() - x)) <= set(np.unique(-x))  # zeroed, never rescaled


def test_sparse_penalty_is_l1_of_the_code(digits):
    x, _ = digits
    model = tiny("sparse_autoencoder")
    terms = model.loss_terms(x[:32], None, training=False)
    code = model.encoder(x[:32]).numpy()
    assert (code >= 0).all()  # a ReLU code
    expected = 1e-3 * np.abs(code).sum() / 32
    assert float(terms["code_penalty"]) == pytest.approx(expected, rel=1e-4)
    assert float(terms["loss"]) == pytest.approx(float(terms["reconstruction_loss"] + terms["code_penalty"]), rel=1e-6)


def test_vae_kl_sampling_and_interpolation(digits):
    x, _ = digits
    model = tiny("vae")
    mean, log_var = (t.numpy() for t in model.encoder(x[:32]))
    kl = -0.5 * np.sum(1 + log_var - mean ** 2 - np.exp(log_var), 1).mean()
    terms = model.loss_terms(x[:32], None, training=False)
    assert float(terms["kl_loss"]) == pytest.approx(kl, rel=1e-4) and kl >= 0
    assert float(terms["elbo"]) == pytest.approx(-float(terms["loss"]), rel=1e-6)  # beta = 1
    samples = model.sample(6, seed=3)
    assert samples.shape == (6, 16, 16, 1) and samples.min() >= 0 and samples.max() <= 1
    np.testing.assert_array_equal(samples, model.sample(6, seed=3))
    assert not np.array_equal(samples, model.sample(6, seed=4))
    strip = model.interpolate(x[0], x[1], steps=5)
    assert strip.shape == (5, 16, 16, 1)
    np.testing.assert_allclose(strip[[0, -1]], model.predict(x[:2], verbose=0), atol=1e-5)  # endpoints = means
    np.testing.assert_array_equal(model(x[:4], training=False), model(x[:4], training=False))  # the mean at inference


def test_bad_configs_raise_clear_errors():
    with pytest.raises(TfmodelsError, match="divisible by 4.*\\(18, 18, 1\\)"):
        tfmodels.build("conv_autoencoder", input_shape=(18, 18, 1))
    with pytest.raises(UnknownNameError, match="conv"):
        tfmodels.build("vae", architecture="rnn")
    with pytest.raises(TfmodelsError, match="mask_rate"):
        tfmodels.build("denoising_autoencoder", mask_rate=1.5)


def test_shared_trainer_trains_it_on_a_labelled_dataset(digits):
    x, y = digits
    splits = make_splits("tiny-usps", (x[:192], y[:192]), (x[192:224], y[192:224]), (x[224:], y[224:]))
    result = train.fit(lambda **_: tiny("conv_autoencoder"), splits, epochs=2, batch_size=32, verbose=0)
    m = result.metrics
    assert m["history"]["reconstruction_loss"][1] < m["history"]["reconstruction_loss"][0]
    assert np.isfinite(m["test_loss"]) and "test_accuracy" not in m


def test_edge_anomaly_score_from_the_docstring_matches_keras(digits, tmp_path):
    x, y = digits
    model = tiny("conv_autoencoder")
    model.compile(keras.optimizers.Adam(3e-3))
    model.fit(x[y == 1], epochs=3, batch_size=32, verbose=0)
    path = tmp_path / "ae_int8.tflite"
    path.write_bytes(convert.to_tflite(model.inference_model(), "int8", representative=x[y == 1]))
    snippet = ae.__doc__.split("::", 1)[1]
    scope = {}
    exec(compile("\n".join(line[4:] for line in snippet.splitlines()), "docstring", "exec"), scope)
    from tfmodels_edge import EdgeModel

    edge_scores = scope["edge_anomaly_score"](EdgeModel(path), x[:64])
    keras_scores = model.score(x[:64])
    assert edge_scores.shape == (64,)
    assert np.corrcoef(edge_scores, keras_scores)[0, 1] > 0.98
    np.testing.assert_allclose(edge_scores, keras_scores, rtol=0.25, atol=2e-3)


def test_export_writes_parity_reports_for_the_reconstruction_graph(digits, tmp_path):
    x, _ = digits
    model = tiny("conv_autoencoder")
    report = convert.export(model, tmp_path, modes=("float32", "int8"), representative=x,
                            eval_data=(x[:32], None), latency_runs=2, layer_errors=False)
    for mode in ("float32", "int8"):
        entry = report["modes"][mode]
        assert entry["builtin_only"] and "TRANSPOSE_CONV" in {o["op"] for o in entry["ops"]}, (mode, entry)
        assert (tmp_path / f"model_{mode}.tflite").stat().st_size == entry["bytes"]
    # int8 closeness is checked on a trained model by the edge anomaly-score test above.
    assert report["modes"]["float32"]["parity_ok"] and report["modes"]["float32"]["max_abs_diff"] < 1e-4
