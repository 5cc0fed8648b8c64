"""The edge kit refuses what it cannot answer: damaged shapes, runaway memory, non-finite
inputs and outputs, images too large to decode (issue 16, item 8)."""
import json
import struct
import subprocess
import sys

import numpy as np
import pytest

from benchmarks import _fuzz
from tfmodels_edge import EdgeModel, InputError, InvalidModelError, check_tflite, open_image
from tfmodels_edge.modelfile import DEFAULT_MAX_MEMORY_MB


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    """A digits MLP (28x28 inputs) trained one epoch and exported: {mode: .tflite path}."""
    files = _fuzz.seed_models(tmp_path_factory.mktemp("edge_limits"))
    return {p.stem.removeprefix("model_"): p for p in files}


def _with_dim(data: bytes, position: int, value: int) -> bytes:
    return data[:position] + struct.pack("<i", value) + data[position + 4:]


def test_any_shape_grown_to_a_billion_is_refused_before_allocation(seeds):
    data = seeds["float32"].read_bytes()
    positions = _fuzz.shape_positions(data)
    assert len(positions) >= 10
    reasons = set()
    for position in positions:
        with pytest.raises(InvalidModelError) as refused:
            check_tflite(_with_dim(data, position, 2**30))
        message = str(refused.value)
        assert "memory cap" in message or "constant tensor" in message, message
        reasons.add("memory cap" if "memory cap" in message else "constant")
    assert reasons == {"memory cap", "constant"}  # activations and weights both guarded
    assert check_tflite(data)  # the undamaged file passes


def test_the_memory_cap_is_configurable(seeds, tmp_path, monkeypatch):
    path = seeds["float32"]
    with pytest.raises(InvalidModelError, match="over the memory cap of 1e-06 MB"):
        EdgeModel(path, max_memory_mb=1e-6)
    monkeypatch.setenv("TFMODELS_EDGE_MAX_MEMORY_MB", "1e-6")
    with pytest.raises(InvalidModelError, match="TFMODELS_EDGE_MAX_MEMORY_MB"):
        EdgeModel(path)
    assert EdgeModel(path, max_memory_mb=DEFAULT_MAX_MEMORY_MB).predict(np.zeros((28, 28, 1))).shape == (1, 10)


@pytest.mark.parametrize("mode", ["float32", "int8"])
def test_non_finite_inputs_are_refused_unless_allowed(seeds, mode):
    model = EdgeModel(seeds[mode])
    x = np.full((1, 28, 28, 1), 0.5, np.float32)
    x[0, 3, 3, 0] = np.nan
    with pytest.raises(InputError, match=r"1 non-finite value\(s\)"):
        model.predict(x)
    x[0, 3, 3, 0] = np.inf
    with pytest.raises(InputError, match="allow_nonfinite"):
        model.predict(x)
    allowed = EdgeModel(seeds[mode], allow_nonfinite=True).predict(x)
    assert allowed.shape == (1, 10)


def test_cli_json_is_strict_even_for_nan_outputs(seeds, tmp_path):
    x = np.full((1, 28, 28, 1), np.nan, np.float32)
    np.save(tmp_path / "nan.npy", x)
    command = [sys.executable, "-m", "tfmodels_edge", "predict", str(seeds["float32"]), "--input",
               str(tmp_path / "nan.npy")]
    refused = subprocess.run(command, capture_output=True, text=True)
    assert refused.returncode == 2 and "non-finite" in refused.stderr and "Traceback" not in refused.stderr
    allowed = subprocess.run([*command, "--allow-nonfinite"], capture_output=True, text=True, check=True)

    def reject(constant):
        raise ValueError(f"non-strict JSON: {constant}")

    result = json.loads(allowed.stdout, parse_constant=reject)
    assert result["nonfinite_outputs"] == 10 and result["outputs"] == [[[None] * 10]]


def test_images_over_the_pixel_limit_are_refused_before_decoding(tmp_path, seeds):
    from PIL import Image

    big = tmp_path / "big.png"
    Image.new("1", (6_000, 5_000)).save(big)  # 30 Mpx over the 25 Mpx default, a few KB on disk
    with pytest.raises(InputError, match="6000 x 5000 = 30,000,000 pixels, over the limit of 25,000,000"):
        open_image(big)
    small = tmp_path / "small.png"
    Image.new("L", (20, 20)).save(small)
    with open_image(small, max_pixels=400) as img:
        assert img.size == (20, 20)
    with pytest.raises(InputError, match="over the limit of 399"):
        open_image(small, max_pixels=399)
    proc = subprocess.run([sys.executable, "-m", "tfmodels_edge", "predict", str(seeds["int8"]), "--input", str(big)],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "was not decoded" in proc.stderr and "Traceback" not in proc.stderr


def test_fuzzed_files_never_crash_predict_or_pass_the_memory_cap(tmp_path):
    result = _fuzz.run(trials=24, workdir=tmp_path, seed=3)
    assert result["fuzz_crashes"] == 0, result["failures"]
    assert result["fuzz_refused"] > 0 and result["fuzz_refused"] + result["fuzz_answered"] == 24
    assert 0 < result["fuzz_peak_rss_mb"] < result["fuzz_memory_cap_mb"]
