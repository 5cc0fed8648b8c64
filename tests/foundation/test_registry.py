import json
import os
import subprocess
import sys

import numpy as np
import pytest

import tfmodels
from tfmodels.errors import UnknownNameError


def test_every_spec_is_complete_and_builds_its_family():
    specs = tfmodels.list_models()
    assert {"seed_cnn", "mlp"} <= {s.name for s in specs}
    for spec in specs:
        assert spec.family and spec.description and callable(spec.builder)
    assert [s.name for s in tfmodels.list_models(family="mlp")] == ["mlp"]


def test_seed_cnn_is_exactly_the_source_network():
    model = tfmodels.build("seed_cnn")
    shapes = [tuple(layer.output_shape[1:]) for layer in model.layers[1:]]
    assert shapes == [(24, 24, 6), (20, 20, 12), (10, 10, 12), (6, 6, 12), (3, 3, 12),
                      (108,), (256,), (10,)]
    assert model.count_params() == 36054
    assert model.layers[-1].activation.__name__ == "softmax"


def test_builder_keywords_change_the_model():
    model = tfmodels.build("seed_cnn", input_shape=(32, 32, 3), num_classes=5)
    assert model.output_shape == (None, 5) and model.input_shape == (None, 32, 32, 3)
    base = tfmodels.build("seed_cnn", include_top=False, pooling="avg")
    assert base.output_shape == (None, 12)
    assert tfmodels.build("mlp", hidden_units=()).count_params() == 28 * 28 * 10 + 10


def test_unknown_model_lists_close_and_valid_names():
    with pytest.raises(UnknownNameError) as err:
        tfmodels.build("seed_cn")
    message = str(err.value)
    assert "Did you mean 'seed_cnn'" in message and "mlp" in message
    with pytest.raises(UnknownNameError, match="unknown family"):
        tfmodels.list_models(family="nope")


def test_keras3_already_bound_is_refused_with_instructions():
    code = ("import os; os.environ.pop('TF_USE_LEGACY_KERAS', None)\n"
            "import tensorflow as tf; tf.keras.layers\n"
            "import tfmodels\n")
    env = {k: v for k, v in os.environ.items() if k != "TF_USE_LEGACY_KERAS"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert proc.returncode != 0
    assert "ImportError" in proc.stderr and "TF_USE_LEGACY_KERAS=1" in proc.stderr


def test_package_never_imports_keras3():
    import pathlib
    src = pathlib.Path(tfmodels.__file__).parent
    offenders = [p for p in src.rglob("*.py") if any(
        line.strip().startswith(("import keras", "from keras ", "from keras."))
        for line in p.read_text().splitlines())]
    assert offenders == [], offenders


def test_cli_list_json_has_the_registry():
    out = subprocess.run([sys.executable, "-m", "tfmodels", "list", "--json"],
                         capture_output=True, text=True, check=True).stdout
    rows = json.loads(out)
    by_name = {r["name"]: r for r in rows}
    assert by_name["seed_cnn"]["family"] == "cnn" and by_name["seed_cnn"]["edge_ready"] is True
    assert len(rows) == len(tfmodels.list_models())


def test_every_model_has_a_registered_default_dataset_or_names_its_call():
    """What `tfmodels train NAME` needs: a default dataset that exists, or the Python call."""
    from tfmodels.data import list_datasets
    from tfmodels.errors import TfmodelsError
    from tfmodels.registry import require_trainable

    datasets = set(list_datasets())
    for spec in tfmodels.list_models():
        if spec.trained_with:
            with pytest.raises(TfmodelsError, match=f"{spec.name} does not train through"):
                require_trainable(spec.name)
            assert "tfmodels." in spec.trained_with
        else:
            assert spec.default_data in datasets, spec.name


def test_fit_takes_the_registered_setup_for_what_it_is_not_given(tmp_path):
    """`tfmodels train vgg` with no flag trains as the USPS benchmark did; a flag wins."""
    from tfmodels.data import from_arrays
    from tfmodels.registry import get_spec
    from tfmodels.rundir import RunDir
    from tfmodels.train import fit

    assert get_spec("vgg").training == {"epochs": 80, "batch_size": 64, "learning_rate": 2e-3, "schedule": "cosine"}
    assert get_spec("vit").training["epochs"] == 100 and get_spec("mlp_mixer").training["epochs"] == 150
    rng = np.random.default_rng(0)
    splits = from_arrays(rng.uniform(size=(60, 16, 16, 1)).astype("float32"), rng.integers(0, 3, 60))
    fit("resnet", splits, epochs=1, out_dir=tmp_path / "run", model_kwargs={"depth": 8}, verbose=0)
    config = RunDir(tmp_path / "run").config()
    assert (config["epochs"], config["batch_size"], config["learning_rate"], config["schedule"]) == (
        1, 64, 2e-3, "cosine")
