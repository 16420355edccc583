"""Choosing a ``tf.distribute`` strategy by name (``--strategy``)."""

from __future__ import annotations

import json
import os

from data_pipelines.errors import MusicVAEError, UsageError

STRATEGIES = ("auto", "cpu", "mirrored", "multiworker", "tpu")


def make_strategy(name: str):
    """Return the ``tf.distribute.Strategy`` called ``name`` (one of ``STRATEGIES``).

    auto: MirroredStrategy over all visible GPUs when there are several, the single GPU when
    there is one, else the CPU. cpu: the CPU only. mirrored: all GPUs, or all logical CPU devices
    when there is no GPU (tests split the CPU into two logical devices). multiworker:
    MultiWorkerMirroredStrategy configured by the TF_CONFIG environment variable. tpu: the TPU named
    by TPU_NAME (empty for a local TPU VM).
    """
    if name not in STRATEGIES:
        raise UsageError(f"unknown strategy {name!r}; choose one of: {', '.join(STRATEGIES)}")
    import tensorflow as tf

    if name == "multiworker":
        # Must come before anything initialises the TensorFlow runtime (e.g. listing devices).
        _check_tf_config()
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "tpu":
        return _tpu_strategy(tf)
    gpus = [d.name for d in tf.config.list_logical_devices("GPU")]
    if name == "auto":
        if len(gpus) > 1:
            return tf.distribute.MirroredStrategy(gpus)
        return tf.distribute.OneDeviceStrategy(gpus[0] if gpus else "/cpu:0")
    if name == "cpu":
        return tf.distribute.OneDeviceStrategy("/cpu:0")
    devices = gpus or [d.name for d in tf.config.list_logical_devices("CPU")]
    return tf.distribute.MirroredStrategy(devices)


def _check_tf_config() -> None:
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        raise UsageError("--strategy multiworker needs the TF_CONFIG environment variable "
                         "(cluster and task of this worker)")
    try:
        tf_config = json.loads(raw)
        tf_config["cluster"]["worker"]
        tf_config["task"]["index"]
    except (ValueError, KeyError, TypeError):
        raise UsageError("TF_CONFIG must be JSON with cluster.worker and task.index") from None


def _tpu_strategy(tf):
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(os.environ.get("TPU_NAME", ""))
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, RuntimeError, tf.errors.OpError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise MusicVAEError(f"no TPU available: {first_line}") from None
    return tf.distribute.TPUStrategy(resolver)


def is_chief(strategy) -> bool:
    """True on the worker that writes the run dir (always true outside multi-worker training)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not getattr(resolver, "cluster_spec", None):
        return True
    if not resolver.cluster_spec().as_dict():
        return True
    task_type, task_id = resolver.task_type, resolver.task_id
    return task_type in (None, "chief") or (task_type == "worker" and task_id == 0
                                            and "chief" not in resolver.cluster_spec().as_dict())


def worker_index(strategy) -> int:
    """Index of this worker in a multi-worker cluster, 0 otherwise."""
    resolver = getattr(strategy, "cluster_resolver", None)
    task_id = getattr(resolver, "task_id", None) if resolver is not None else None
    return int(task_id or 0)
