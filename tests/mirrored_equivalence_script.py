"""Run by test_training_distributed: the same 3 training steps on one CPU device and on two
logical CPU devices under MirroredStrategy; prints the losses, the weights and the cross-replica
collective ops of the traced step (by op type, nested functions included) as JSON.

Logical devices must be configured before TensorFlow runs any op, hence a separate process.
"""

import collections
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import tensorflow as tf  # noqa: E402

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

sys.path.insert(0, os.path.dirname(__file__))
from musicvae_tf.training import setup_training  # noqa: E402
from musicvae_tf.models.music_vae.task import VAETask  # noqa: E402
from training_support import synthetic_tokens, tiny_config, token_dataset_fn  # noqa: E402


def collective_ops(concrete_function) -> dict:
    """Op type -> count of the all-reduce-like ops in a traced function and its nested bodies."""
    graph = concrete_function.graph.as_graph_def()
    types = [n.op for n in graph.node] + [n.op for f in graph.library.function for n in f.node_def]
    return dict(collections.Counter(t for t in types
                                    if "Collective" in t or "Nccl" in t or "AllReduce" in t))


def run(strategy, config, tokens, initial):
    def builder():
        task = VAETask(config)
        if initial is not None:
            task.model.set_weights(initial)
        return task

    setup = setup_training(builder, strategy, "float32", seed=0)
    start = [w.numpy() for w in setup.task.model.weights]
    iterator = iter(strategy.distribute_datasets_from_function(token_dataset_fn(tokens, config)))
    logs = [{k: float(v) for k, v in setup.train_step(next(iterator)).items()} for _ in range(3)]
    collectives = collective_ops(setup.train_step.get_concrete_function(next(iterator)))
    return start, logs, [w.numpy().tolist() for w in setup.task.model.weights], \
        int(setup.optimizer.iterations.numpy()), collectives


config = tiny_config(*sys.argv[1:])
tokens = synthetic_tokens(config)
initial, single_logs, single_weights, single_iterations, _ = run(
    tf.distribute.OneDeviceStrategy("/cpu:0"), config, tokens, None)
mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
_, mirrored_logs, mirrored_weights, mirrored_iterations, collectives = run(
    mirrored, config, tokens, initial)
print(json.dumps({
    "replicas": mirrored.num_replicas_in_sync,
    "single": {"logs": single_logs, "weights": single_weights, "iterations": single_iterations},
    "mirrored": {"logs": mirrored_logs, "weights": mirrored_weights,
                 "iterations": mirrored_iterations, "collectives": collectives},
}))
