"""Random numbers that do not depend on how a global batch is split across replicas."""

from __future__ import annotations

import tensorflow as tf


def replica_invariant_normal(local_batch_size, dims: int, seed: int, step, salt: int = 0,
                             dtype=tf.float32):
    """Standard normal noise ``[local_batch_size, dims]`` for this replica's examples.

    The noise of the whole global batch is drawn from a stateless generator keyed by
    ``(seed, step, salt)`` and this replica takes the rows of its own examples, so example ``i`` of
    global batch ``step`` gets the same noise whether it is trained on one device or on any number
    of replicas. This relies on the tf.distribute convention that replica ``r`` of ``n`` receives
    the ``r``-th contiguous slice of every global batch (true for MirroredStrategy with
    ``distribute_datasets_from_function`` or ``experimental_distribute_dataset``) and that every
    replica has the same number of examples (training datasets drop the remainder).
    Drawing ``n`` times more numbers than needed costs little next to a forward pass.
    """
    return _replica_rows(tf.random.stateless_normal, local_batch_size, dims, seed, step, salt,
                         dtype)


def replica_invariant_uniform(local_batch_size, dims: int, seed: int, step, salt: int = 0,
                              dtype=tf.float32):
    """Uniform [0, 1) numbers ``[local_batch_size, dims]``, per example independent of the
    replica split like :func:`replica_invariant_normal`."""
    return _replica_rows(tf.random.stateless_uniform, local_batch_size, dims, seed, step, salt,
                         dtype)


def _replica_rows(draw, local_batch_size, dims, seed, step, salt, dtype):
    """This replica's rows of the global batch's ``draw(shape, seed=(seed, step, salt))``."""
    context = tf.distribute.get_replica_context()
    num_replicas = context.num_replicas_in_sync if context is not None else 1
    replica_id = context.replica_id_in_sync_group if context is not None else 0
    local = tf.cast(local_batch_size, tf.int32)
    step_seed = tf.cast(step, tf.int64) * 1_000_003 + salt
    key = tf.stack([tf.constant(seed, tf.int64), step_seed])
    everything = draw(tf.stack([local * num_replicas, dims]), seed=key, dtype=dtype)
    start = tf.cast(replica_id, tf.int32) * local
    return everything[start:start + local]
