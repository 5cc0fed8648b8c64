"""A small trained artifact in a temporary zoo, shared by the app tests."""
import pytest


@pytest.fixture(scope="session")
def zoo(tmp_path_factory):
    from tfmodels import convert, train

    root = tmp_path_factory.mktemp("zoo")
    run_dir = root / "seed_cnn_digits"
    train.fit("seed_cnn", "digits", epochs=3, out_dir=run_dir, verbose=0)
    convert.export(run_dir, modes=("float32", "int8"), latency_runs=5)
    return root


@pytest.fixture
def app_env(zoo, monkeypatch):
    monkeypatch.setenv("TFMODELS_ZOO", str(zoo))
    return zoo
