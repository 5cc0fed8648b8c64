"""The Train and Edge pages, headless with AppTest."""
import numpy as np

import helpers as app


def _page(page: str):
    """The page with a longer timeout (the Train page trains), no exception nor error shown."""
    return app.ok(app.page(page, timeout=240))


def _captions(at) -> str:
    return " ".join(c.value for c in at.caption)


# -- Train ------------------------------------------------------------------------------

def test_train_page_describes_the_chosen_model(tmp_path, monkeypatch):
    monkeypatch.setenv("TFMODELS_ZOO", str(tmp_path))
    at = _page("views/train.py")
    assert "mlp" in at.selectbox(key="train_model").options and "vit" in at.selectbox(key="train_model").options
    assert "`mlp` (mlp): 235,146 parameters" in _captions(at)
    at.selectbox(key="train_model").set_value("seed_cnn").run()
    assert "`seed_cnn` (cnn): 36,054 parameters" in _captions(at)
    assert at.text_input[0].value.startswith("seed_cnn_digits_")
    at.selectbox(key="train_model").set_value("mlp")
    at.selectbox(key="train_data").set_value("usps").run()  # the shared data, 16x16
    assert "for usps: 16x16x1 images, 10 classes" in _captions(at)


def test_train_page_says_when_a_model_cannot_take_the_data(tmp_path, monkeypatch):
    monkeypatch.setenv("TFMODELS_ZOO", str(tmp_path))
    at = _page("views/train.py")
    at.selectbox(key="train_model").set_value("mobilenet_v2").run()
    assert not at.exception and not at.error
    assert "cannot take the 28x28x1 images of digits" in at.warning[0].value
    assert "at least 32x32" in at.warning[0].value
    assert not at.button  # nothing to train


def test_train_page_says_where_missing_data_goes(tmp_path, monkeypatch):
    monkeypatch.setenv("TFMODELS_ZOO", str(tmp_path))
    monkeypatch.setenv("TFMODELS_DATA_DIR", str(tmp_path / "no-data"))
    at = _page("views/train.py")
    at.selectbox(key="train_data").set_value("usps").run()
    assert not at.exception and not at.error
    assert f"`{tmp_path / 'no-data' / 'usps'}` is missing" in at.warning[0].value
    assert not at.button


def test_train_page_refuses_a_bad_name(tmp_path, monkeypatch):
    monkeypatch.setenv("TFMODELS_ZOO", str(tmp_path))
    at = _page("views/train.py")
    at.text_input[0].set_value("../escape").run()
    at.button[0].click().run()
    assert not at.exception and "Name the artifact" in at.warning[0].value
    assert not list(tmp_path.iterdir())


def test_train_page_trains_exports_and_lists_the_artifact(tmp_path, monkeypatch):
    import tfmodels.zoo

    monkeypatch.setenv("TFMODELS_ZOO", str(tmp_path))
    at = _page("views/train.py")
    at.number_input(key="train_epochs").set_value(1)
    at.number_input(key="train_batch").set_value(128)
    at.text_input[0].set_value("mlp_digits_test").run()
    at.button[0].click().run()
    assert not at.exception and not at.error, (at.exception, at.error)
    assert "Saved `mlp_digits_test`" in at.success[0].value
    [art] = tfmodels.zoo.list_artifacts(tmp_path)
    (_, [losses]), (confusion, cells) = app.charts(at)  # the live loss curves, the int8 confusion matrix
    assert sorted(losses.iloc[:, 1]) == ["loss", "val_loss"]  # one epoch: (epoch, curve, value) rows
    int8 = art["export"]["modes"]["int8"]
    assert confusion["title"] == f"int8 .tflite on {int8['samples']} test examples"
    assert cells[0]["count"].sum() == int8["samples"] and len(cells[0]) == 100
    assert np.array_equal(cells[0].pivot(index="true", columns="predicted", values="count")
                          .loc[list("0123456789"), list("0123456789")].to_numpy(), int8["confusion_matrix"])
    assert art["name"] == "mlp_digits_test" and art["metrics"]["epochs"] == 1
    assert art["metrics"]["global_batch_size"] == 128
    assert set(art["export"]["modes"]) == {"float32", "int8"}
    zoo = _page("views/zoo.py")
    assert list(zoo.dataframe[0].value["artifact"]) == ["mlp_digits_test"]


# -- Edge -------------------------------------------------------------------------------

def test_edge_page_shows_commands_and_the_deployment_report(app_env):
    at = _page("views/edge.py")
    tflite = app_env / "seed_cnn_digits" / "tflite"
    assert f"tfmodels-edge benchmark {tflite / 'model_int8.tflite'}" in at.code[0].value
    assert 'pip install "./export[litert]"' in at.code[0].value
    report = at.code[1].value
    assert report.startswith("model_int8.tflite:") and "CONV_2D" in report and "tensor arena" in report
    table = at.dataframe[0].value.set_index("mode")
    assert table.loc["int8", "file KiB"] < table.loc["float32", "file KiB"]
    assert table.loc["int8", "arena KiB"] > 0 and table.loc["int8", "builtin only"]
    names = next(m.value for m in at.markdown if "Class names on the device" in m.value)
    assert "labels.txt" in names and all(f"`{d}`" in names for d in "0123456789")  # embedded too
    at.radio(key="edge_mode").set_value("float32").run()
    assert "model_float32.tflite" in at.code[0].value and at.code[1].value.startswith("model_float32.tflite:")


def test_edge_page_benchmarks_every_file_with_the_chosen_threads(app_env):
    at = _page("views/edge.py")
    at.selectbox(key="edge_threads").set_value(2)
    at.number_input(key="edge_runs").set_value(20).run()
    at.button[0].click().run()
    assert not at.exception and not at.error
    result = at.dataframe[1].value.set_index("mode")
    assert list(result.index) == ["float32", "int8"]
    assert (result["threads"] == 2).all() and (result["runs"] == 20).all()
    assert (result["p50_ms"] > 0).all() and (result["p50_ms"] <= result["p99_ms"]).all()


def test_edge_page_says_when_a_file_is_corrupt(app_env, tmp_path, monkeypatch):
    import shutil

    shutil.copytree(app_env / "seed_cnn_digits", tmp_path / "broken")
    int8 = tmp_path / "broken" / "tflite" / "model_int8.tflite"
    int8.write_bytes(int8.read_bytes()[:1000])  # a half-copied file
    monkeypatch.setenv("TFMODELS_ZOO", str(tmp_path))
    at = _page("views/edge.py")
    at.button[0].click().run()
    assert not at.exception
    assert "cannot run `model_int8.tflite`" in at.error[0].value


def test_edge_page_on_an_empty_zoo_offers_to_build(tmp_path, monkeypatch):
    monkeypatch.setenv("TFMODELS_ZOO", str(tmp_path))
    at = _page("views/edge.py")
    assert [b.label for b in at.button] == ["Build default models"]
