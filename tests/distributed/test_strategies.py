"""Strategies on this machine: MirroredStrategy over 2 logical CPUs, and selection errors."""
import json
import subprocess
import sys

import pytest

from tfmodels.errors import TfmodelsError, UnknownNameError
from tfmodels.train import describe, get_strategy

SCRIPT = """
import json, tfmodels
from tfmodels.train import fit, split_cpu
split_cpu(2)
one = fit("mlp", "digits", strategy="cpu", epochs=3, batch_size=32, verbose=0,
          model_kwargs={"hidden_units": (32,)})
two = fit("mlp", "digits", strategy="mirrored", epochs=3, batch_size=16, verbose=0,
          model_kwargs={"hidden_units": (32,)})
print(json.dumps({k: {"loss": r.metrics["history"]["loss"], "replicas": r.metrics["replicas"],
                      "global_batch": r.metrics["global_batch_size"], "devices": r.metrics["devices"]}
                  for k, r in (("one", one), ("two", two))}))
"""


def test_mirrored_over_two_cpus_follows_the_single_device_loss_curve():
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    runs = json.loads(proc.stdout.strip().splitlines()[-1])
    assert runs["one"]["replicas"] == 1 and runs["two"]["replicas"] == 2
    assert runs["one"]["global_batch"] == runs["two"]["global_batch"] == 32
    assert len(runs["two"]["devices"]) == 2
    for a, b in zip(runs["one"]["loss"], runs["two"]["loss"]):
        assert b == pytest.approx(a, rel=2e-3)


def test_strategy_names_and_errors(monkeypatch):
    assert describe(get_strategy("cpu"))["replicas"] == 1
    assert describe(get_strategy("auto"))["strategy"] == "DefaultStrategy"  # no GPU, no TF_CONFIG
    with pytest.raises(UnknownNameError, match="Did you mean 'mirrored'"):
        get_strategy("mirored")
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(TfmodelsError, match="TF_CONFIG"):
        get_strategy("multiworker")
    with pytest.raises(TfmodelsError, match="no GPU"):
        get_strategy("gpu")


def test_gnn_full_batch_under_a_one_device_strategy_matches_the_default_path():
    """Graph training goes through the one trainer: a real strategy object (its scope,
    run and reduce) gives the same weights as the default path."""
    import numpy as np

    from tfmodels import train
    from tfmodels._keras import tf

    runs = {}
    for name in ("default", "one_device"):
        strategy = tf.distribute.OneDeviceStrategy("/cpu:0") if name == "one_device" else "auto"
        runs[name] = train.fit("gcn", "karate", epochs=30, learning_rate=0.05, select="last", verbose=0,
                               strategy=strategy, model_kwargs={"dropout": 0.0})
    assert runs["one_device"].metrics["test_accuracy"] == runs["default"].metrics["test_accuracy"] >= 0.85
    for a, b in zip(runs["default"].model.get_weights(), runs["one_device"].model.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_gnn_full_batch_refuses_several_replicas_with_a_clear_error():
    from tfmodels import train
    from tfmodels._keras import tf

    class TwoReplicas(tf.distribute.OneDeviceStrategy):  # stands in for MirroredStrategy
        num_replicas_in_sync = 2

    with pytest.raises(TfmodelsError, match="one replica"):
        train.fit("gcn", "karate", strategy=TwoReplicas("/cpu:0"), epochs=1, verbose=0)
