"""The compiled training step: gradients on every replica, one global clip/skip decision, update.

The step runs in two phases because the skip decision needs the gradient summed over all
replicas, and an update that calls ``merge_call`` (every Keras optimiser under tf.distribute) must
not sit inside a ``tf.cond`` in replica context:

1. on each replica: loss / num_replicas (the replica gradients are summed, SPEC §8), loss scaling
   under mixed_float16, gradients, an all-reduce SUM, then the global norm of the true (unscaled)
   summed gradient and clipping to ``clip_norm``;
2. in cross-replica context: ``tf.cond(global_norm < skip_norm)`` around ``strategy.run`` of the
   optimiser update (SPEC §4: skip when the norm is >= 1e4, which also skips NaN/inf gradients).

That all-reduce is the step's only one over the gradients: a Keras optimiser on the TensorFlow
backend all-reduces the gradients it is given whenever it runs in a replica context, so
:func:`without_gradient_aggregation` turns that off for the already summed gradients of phase 1.
The logged scalars are averaged over replicas with one reduction of a stacked vector. With a
LossScaleOptimizer a non-finite gradient is still passed on, so that the optimiser lowers its
loss scale (it skips such updates itself).
"""

from __future__ import annotations

import tensorflow as tf

from musicvae_tf.training.gradient_clip import clip_or_skip
from musicvae_tf.training.precision import uses_loss_scaling


def without_gradient_aggregation(optimizer) -> None:
    """Make ``optimizer`` (or the optimiser a LossScaleOptimizer wraps) apply the gradients it is
    given as they are instead of summing them over replicas first.

    Keras 3 has no public switch for this (tf.keras had ``experimental_aggregate_gradients``);
    its TensorFlow optimiser routes every update through ``_all_reduce_sum_gradients``, which we
    replace on this instance by the identity. A Keras version without that method fails here
    rather than silently summing twice; tests/test_training_distributed.py counts the
    collectives of the traced step.
    """
    for target in (optimizer, getattr(optimizer, "inner_optimizer", None)):
        if target is None:
            continue
        if not callable(getattr(target, "_all_reduce_sum_gradients", None)):
            raise RuntimeError(f"{type(target).__name__} has no _all_reduce_sum_gradients: "
                               "this Keras version aggregates gradients differently")
        target._all_reduce_sum_gradients = lambda grads_and_vars: list(grads_and_vars)


def make_train_step(task, optimizer, strategy, *, step, clip_norm: float = 1.0,
                    skip_norm: float = 1e4, jit_compile: bool = False):
    """Return a ``tf.function(distributed_batch) -> dict`` that trains one step.

    ``step`` is an int64 ``tf.Variable`` (the global step, created under ``strategy.scope()``);
    it is passed to ``task.losses`` and incremented after every step, applied or skipped.
    The returned dict holds the task's scalars averaged over replicas plus ``global_norm``
    (before clipping), ``skipped`` (1.0 when the update was skipped) and ``learning_rate``.
    Build the optimiser before the first call (``optimizer.build(task.trainable_variables)``
    inside the scope) so that its variables are created outside the function. The optimiser is
    changed to take the summed gradients as they are (:func:`without_gradient_aggregation`).
    With ``jit_compile`` the loss and its gradients (the replica's forward and backward pass)
    are compiled by XLA; the all-reduce, clipping and update stay outside.
    """
    without_gradient_aggregation(optimizer)
    loss_scaling = uses_loss_scaling(optimizer)
    clip_norm, skip_norm = float(clip_norm), float(skip_norm)

    def loss_gradients(batch, num_replicas):
        variables = task.trainable_variables
        with tf.GradientTape() as tape:
            logs = task.losses(batch, step, True)
            loss = tf.cast(logs["loss"], tf.float32)
            scaled_loss = optimizer.scale_loss(loss / num_replicas)
        grads = tape.gradient(scaled_loss, variables)
        return logs, [tf.zeros_like(v) if g is None else tf.convert_to_tensor(g)
                      for g, v in zip(grads, variables)]

    compiled_gradients = tf.function(loss_gradients, jit_compile=True) if jit_compile else None

    def replica_gradients(batch):
        context = tf.distribute.get_replica_context()
        num_replicas = context.num_replicas_in_sync
        logs, grads = (compiled_gradients or loss_gradients)(batch, num_replicas)
        if num_replicas > 1:
            grads = context.all_reduce(tf.distribute.ReduceOp.SUM, grads)
        loss_scale = optimizer.dynamic_scale if loss_scaling else None
        grads, global_norm, skipped = clip_or_skip(grads, clip_norm, skip_norm, loss_scale)
        apply = tf.logical_not(skipped)
        if loss_scaling:
            apply = tf.logical_or(apply, tf.logical_not(tf.math.is_finite(global_norm)))
        logs = {k: tf.cast(v, tf.float32) for k, v in logs.items()}
        logs["global_norm"] = global_norm
        logs["skipped"] = tf.cast(skipped, tf.float32)
        return grads, apply, logs

    def replica_update(grads):
        optimizer.apply(grads, task.trainable_variables)

    @tf.function
    def train_step(batch):
        grads, apply, logs = strategy.run(replica_gradients, args=(batch,))
        # Every replica computed ``apply`` from the same summed gradient: take the first.
        apply = strategy.experimental_local_results(apply)[0]
        learning_rate = tf.cast(optimizer.learning_rate, tf.float32)

        def update():
            strategy.run(replica_update, args=(grads,))
            return tf.constant(True)

        tf.cond(apply, update, lambda: tf.constant(False))
        step.assign_add(1)
        names = list(logs)
        stacked = strategy.run(lambda values: tf.stack([values[k] for k in names]), args=(logs,))
        means = strategy.reduce(tf.distribute.ReduceOp.MEAN, stacked, axis=None)
        reduced = dict(zip(names, tf.unstack(means)))
        reduced["learning_rate"] = learning_rate
        return reduced

    return train_step

