"""The Autoencoders and Graphs pages, headless with AppTest, on tiny demo models built
once into a temporary zoo by the same functions the pages' Build buttons call."""
import functools
import sys
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

APPS = Path(__file__).resolve().parents[2] / "apps"
sys.path.insert(0, str(APPS))

import ae_models as am  # noqa: E402

TINY = {
    am.DENOISER: functools.partial(am.build_denoiser, latent_dim=8, filters=(4, 8), epochs=2),
    am.VAE: functools.partial(am.build_vae, latent_dim=4, hidden_units=(32,), epochs=2),
    am.ANOMALY: functools.partial(am.build_anomaly, held_out=1, latent_dim=8, filters=(4, 8), epochs=3),
}


def build_tiny(zoo: Path, name: str) -> Path:
    """What the page's Build button does (common.demo_artifact), with tiny settings."""
    from tfmodels.files import write_json

    run_dir = zoo / name
    run_dir.mkdir(parents=True)
    TINY[name](run_dir, lambda fraction, text="": None)
    write_json(run_dir / "done.json", {"name": name, "built": "test"})
    return run_dir


@pytest.fixture(scope="module")
def demo_zoo(tmp_path_factory):
    zoo = tmp_path_factory.mktemp("ae_graph_zoo")
    for name in TINY:
        build_tiny(zoo, name)
    return zoo


@pytest.fixture
def demo_env(demo_zoo, monkeypatch):
    monkeypatch.setenv("TFMODELS_ZOO", str(demo_zoo))
    return demo_zoo


def _page(page: str) -> AppTest:
    at = AppTest.from_file(str(APPS / "app.py"), default_timeout=120)
    at.run()
    at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    return at


def _ok(at):
    assert not at.exception and not at.error, (at.exception, at.error)
    return at


def _metrics(at) -> dict:
    return {m.label: m.value for m in at.metric}


def _images(at) -> list:
    """The pixels of every st.image on the page (AppTest keeps them as media URLs)."""
    return [el.proto.imgs[0].url for el in at.get("image")]


# -- Autoencoders -----------------------------------------------------------------------


def test_reconstruction_and_denoising_follow_the_image_and_the_noise(demo_env):
    at = _ok(_page("pages/autoencoders.py"))
    first = _metrics(at)
    assert set(first) == {"Reconstruction PSNR", "Noisy PSNR", "Denoised PSNR"}
    images = _images(at)
    assert len(images) == 1
    at.slider(key="ae_noise").set_value(0.9).run()
    noisier = _metrics(_ok(at))
    db = lambda m, k: float(m[k].split()[0])  # noqa: E731
    assert db(noisier, "Noisy PSNR") < db(first, "Noisy PSNR") - 3  # more noise, lower PSNR
    assert noisier["Reconstruction PSNR"] == first["Reconstruction PSNR"]  # the clean image did not change
    at.slider(key="ae_noise").set_value(0.0).run()
    assert db(_metrics(_ok(at)), "Noisy PSNR") >= 100  # no noise: the noisy input is the image
    at.number_input(key="ae_image").set_value(5).run()
    assert _metrics(_ok(at))["Reconstruction PSNR"] != first["Reconstruction PSNR"]
    assert _images(at) != images


def test_vae_samples_follow_the_seed_and_equal_images_are_a_message(demo_env):
    at = _page("pages/autoencoders.py")
    at.radio(key="ae_task").set_value("VAE").run()
    _ok(at)
    samples, interpolation = _images(at)
    at.number_input(key="vae_seed").set_value(7).run()
    assert _images(_ok(at)) == [_images(at)[0], interpolation] and _images(at)[0] != samples
    at.number_input(key="vae_to").set_value(2).run()
    assert _images(_ok(at))[1] != interpolation
    at.number_input(key="vae_to").set_value(0).run()  # the same image as "from"
    assert not at.exception and len(_images(at)) == 1
    assert "two different test images" in at.warning[0].value


def test_anomaly_auc_matches_the_library_scores(demo_env):
    from common import load_rebuildable
    from sklearn.metrics import roc_auc_score
    from tfmodels.data import load_arrays

    at = _page("pages/autoencoders.py")
    at.radio(key="ae_task").set_value("Anomaly detection").run()
    _ok(at)
    model, info = load_rebuildable(demo_env / am.ANOMALY)
    x, y = load_arrays("digits", "test")
    auc = roc_auc_score(y == info["held_out"], model.score(x))
    assert _metrics(at)["ROC AUC"] == f"{auc:.3f}"
    assert len(at.get("vega_lite_chart")) == 1  # the ROC curve
    at.slider(key="anomaly_count").set_value(4).run()
    assert _ok(at).get("image")[0].proto.imgs[0].caption.count("·") == 3


def test_roc_and_psnr_helpers():
    fpr, tpr, auc = am.roc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([False, False, True, True]))
    assert auc == 0.75 and fpr[0] == tpr[0] == 0 and fpr[-1] == tpr[-1] == 1
    clean = np.full((28, 28, 1), 0.5, np.float32)
    assert am.psnr(clean + 0.1, clean) == pytest.approx(20.0, abs=1e-3)
    noisy = am.add_noise(clean, 2.0)
    assert noisy.min() == 0.0 and noisy.max() == 1.0  # clipped to the image range


def test_empty_zoo_offers_to_build_and_the_button_builds(tmp_path, monkeypatch):
    monkeypatch.setenv("TFMODELS_ZOO", str(tmp_path))
    at = _page("pages/autoencoders.py")
    assert [b.label for b in at.button] == [f"Build {am.DENOISER}"] and not at.metric
    monkeypatch.setattr(am, "build_vae", TINY[am.VAE])  # the button builds a tiny one
    at.radio(key="ae_task").set_value("VAE").run()
    at.button(key=f"build-{am.VAE}").click().run()
    _ok(at)
    assert (tmp_path / am.VAE / "done.json").exists() and len(_images(at)) == 2
