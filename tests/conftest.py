"""Shared test setup: real data from ../shared/data, quiet TensorFlow, fixed seeds."""
import os
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
os.environ.setdefault("TFMODELS_DATA_DIR", str(SHARED_DATA))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Downloads go nowhere (a closed local port): tests read ../shared/data or serve it
# themselves (tests/data/test_download.py), never the internet.
os.environ.setdefault("TFMODELS_DATA_URL", "http://127.0.0.1:9")

import tfmodels  # noqa: E402,F401  (selects tf_keras before any test touches TensorFlow)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The shared real datasets (USPS, MNIST test, Cora, TU, text, Tiny Shakespeare)."""
    assert SHARED_DATA.is_dir(), f"expected the shared datasets at {SHARED_DATA}"
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _seed():
    import tensorflow as tf

    tf.keras.utils.set_random_seed(0)
    yield
    tf.keras.backend.clear_session()
