"""The Train and Edge pages, headless with AppTest."""
from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "apps" / "app.py")


def _page(page: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=240)
    at.run()
    at.switch_page(page)
    at.run()
    assert not at.exception and not at.error, (at.exception, at.error)
    return at


def _captions(at) -> str:
    return " ".join(c.value for c in at.caption)


# -- Train ------------------------------------------------------------------------------

def test_train_page_describes_the_chosen_model(tmp_path, monkeypatch):
    monkeypatch.setenv("TFMODELS_ZOO", str(tmp_path))
    at = _page("pages/train.py")
    assert "mlp" in at.selectbox(key="train_model").options and "vit" in at.selectbox(key="train_model").options
    assert "`mlp` (mlp): 235,146 parameters" in _captions(at)
    at.selectbox(key="train_model").set_value("seed_cnn").run()
    assert "`seed_cnn` (cnn): 36,054 parameters" in _captions(at)
    assert at.text_input[0].value.startswith("seed_cnn_digits_")


def test_train_page_says_when_a_model_cannot_take_the_data(tmp_path, monkeypatch):
    monkeypatch.setenv("TFMODELS_ZOO", str(tmp_path))
    at = _page("pages/train.py")
    at.selectbox(key="train_model").set_value("mobilenet_v2").run()
    assert not at.exception and not at.error
    assert "cannot take digits's 28x28x1 images" in at.warning[0].value
    assert "at least 32x32" in at.warning[0].value
    assert not at.button  # nothing to train


def test_train_page_refuses_a_bad_name(tmp_path, monkeypatch):
    monkeypatch.setenv("TFMODELS_ZOO", str(tmp_path))
    at = _page("pages/train.py")
    at.text_input[0].set_value("../escape").run()
    at.button[0].click().run()
    assert not at.exception and "Name the artifact" in at.warning[0].value
    assert not list(tmp_path.iterdir())


def test_train_page_trains_exports_and_lists_the_artifact(tmp_path, monkeypatch):
    import tfmodels.zoo

    monkeypatch.setenv("TFMODELS_ZOO", str(tmp_path))
    at = _page("pages/train.py")
    at.number_input(key="train_epochs").set_value(1)
    at.number_input(key="train_batch").set_value(128)
    at.text_input[0].set_value("mlp_digits_test").run()
    at.button[0].click().run()
    assert not at.exception and not at.error, (at.exception, at.error)
    assert "Saved `mlp_digits_test`" in at.success[0].value
    assert len(at.get("vega_lite_chart")) == 1  # the loss curve
    [art] = tfmodels.zoo.list_artifacts(tmp_path)
    assert art["name"] == "mlp_digits_test" and art["metrics"]["epochs"] == 1
    assert art["metrics"]["global_batch_size"] == 128
    assert set(art["export"]["modes"]) == {"float32", "int8"}
    zoo = _page("pages/zoo.py")
    assert list(zoo.dataframe[0].value["artifact"]) == ["mlp_digits_test"]
