"""Choosing a ``tf.distribute`` strategy in one place.

``auto`` picks a TPU if a resolver finds one, MultiWorkerMirroredStrategy when
TF_CONFIG names several workers, MirroredStrategy for several GPUs, the one GPU, else
the CPU. Explicit names: cpu, gpu, mirrored, multiworker (from
TF_CONFIG), tpu.
"""
import json
import logging
import os

from tfmodels._keras import tf
from tfmodels.errors import TfmodelsError, UnknownNameError

log = logging.getLogger("tfmodels.train")

STRATEGIES = ("auto", "cpu", "gpu", "mirrored", "multiworker", "tpu")


def _tpu_strategy():
    resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
    tf.config.experimental_connect_to_cluster(resolver)
    tf.tpu.experimental.initialize_tpu_system(resolver)
    return tf.distribute.TPUStrategy(resolver)


def _tpu_present() -> bool:
    """Cheap check before asking a resolver (which may wait on a metadata server)."""
    return bool(os.environ.get("TPU_NAME") or os.environ.get("COLAB_TPU_ADDR")
                or os.path.exists("/dev/accel0") or os.path.exists("/dev/vfio/0"))


def get_strategy(name: str = "auto") -> "tf.distribute.Strategy":
    """The strategy called ``name`` (see module docstring)."""
    if isinstance(name, tf.distribute.Strategy):
        return name
    if name not in STRATEGIES:
        raise UnknownNameError("strategy", name, STRATEGIES)
    # Physical, not logical: listing logical devices starts the runtime, after which
    # MultiWorkerMirroredStrategy can no longer configure its collectives.
    gpus = tf.config.list_physical_devices("GPU")
    if name == "auto":
        if _tpu_present():
            try:
                return _tpu_strategy()
            except (ValueError, RuntimeError) as e:
                log.info("no TPU reachable (%s); falling back", e)
        workers = json.loads(os.environ.get("TF_CONFIG", "{}")).get("cluster", {}).get("worker", [])
        name = ("multiworker" if len(workers) > 1 else "mirrored" if len(gpus) > 1
                else "gpu" if gpus else "cpu")
    # One device: the default strategy, i.e. exactly what a plain model.fit does (the
    # first GPU if any). CPU-only with GPUs visible: a one-replica MirroredStrategy
    # pinned to the CPU.
    if name == "cpu":
        return tf.distribute.MirroredStrategy(["/cpu:0"]) if gpus else tf.distribute.get_strategy()
    if name == "gpu":
        if not gpus:
            raise TfmodelsError("strategy 'gpu' asked for, but TensorFlow sees no GPU")
        return tf.distribute.get_strategy()
    if name == "mirrored":
        devices = ([f"/gpu:{i}" for i in range(len(gpus))]
                   or [d.name for d in tf.config.list_logical_devices("CPU")])
        return tf.distribute.MirroredStrategy(devices)
    if name == "multiworker":
        if "TF_CONFIG" not in os.environ:
            raise TfmodelsError("strategy 'multiworker' needs TF_CONFIG (see `tfmodels launch`)")
        return tf.distribute.MultiWorkerMirroredStrategy()
    try:
        return _tpu_strategy()
    except (ValueError, RuntimeError, tf.errors.OpError) as e:
        raise TfmodelsError(f"strategy 'tpu' asked for, but no TPU is reachable ({str(e)[:200]}); "
                            "use --strategy auto to take what there is") from e


def describe(strategy) -> dict:
    """Strategy class, replica count and devices, for logs and metrics.json."""
    is_default = strategy is tf.distribute.get_strategy() and not tf.distribute.has_strategy()
    if is_default:  # wherever Keras places ops: the first GPU, else the CPU
        gpus = tf.config.list_logical_devices("GPU")
        devices = [gpus[0].name if gpus else tf.config.list_logical_devices("CPU")[0].name]
    else:
        devices = list(strategy.extended.worker_devices)
    name = type(strategy).__name__
    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        name = "MultiWorkerMirroredStrategy"  # its class is CollectiveAllReduceStrategy
    info = {
        "strategy": "DefaultStrategy" if is_default else name,
        "replicas": strategy.num_replicas_in_sync,
        "devices": devices,
    }
    if "TF_CONFIG" in os.environ:
        task = json.loads(os.environ["TF_CONFIG"]).get("task", {})
        info["task"] = task
    return info


def split_cpu(n: int) -> None:
    """Expose the CPU as ``n`` logical devices (call before TensorFlow runs anything).

    Lets MirroredStrategy be exercised, and tested, on a machine without GPUs.
    """
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(n)])
