"""MusicVAE as a TrainingTask: schedules from the step, reparameterised posterior, ``vae_losses``."""

from __future__ import annotations

from pathlib import Path

import tensorflow as tf

from musicvae_tf.config import Config
from musicvae_tf.training.noise import replica_invariant_normal
from musicvae_tf.training.task import TrainingTask


class VAETask(TrainingTask):
    """Trains a :class:`musicvae_tf.model.MusicVAE` on ``(one_hot, tokens)`` batches (SPEC §4).

    The posterior noise is drawn per example from ``(training.seed, step)`` independently of how
    the batch is split over replicas (see ``noise.replica_invariant_normal``), so a run on N
    devices computes the same loss and update as a run on one. The scheduled-sampling draws are
    keyed by ``(seed, step, replica)``; they are statistically the same under any split but not
    bit-identical, so equality across device counts holds for configs without scheduled sampling.
    """

    def __init__(self, config: Config, model=None):
        from musicvae_tf.model import build_model

        self.config = config
        self.model = model if model is not None else build_model(config)

    @property
    def learning_rate(self):
        from musicvae_tf.schedules import LearningRateDecay

        training = self.config.training
        return LearningRateDecay(training.learning_rate, training.min_learning_rate,
                                 training.decay_rate)

    def losses(self, batch, step, training: bool) -> dict:
        """Loss terms of one batch plus the step's ``beta`` and ``sampling_probability``."""
        from musicvae_tf.losses import vae_losses
        from musicvae_tf.schedules import beta_at, sampling_probability

        one_hot, tokens = batch
        settings = self.config.training
        mu, sigma = self.model.encode(one_hot, training=training)
        mu, sigma = tf.cast(mu, tf.float32), tf.cast(sigma, tf.float32)
        if training:
            noise = replica_invariant_normal(tf.shape(mu)[0], self.model.latent_dim,
                                             settings.seed, step)
            z = mu + sigma * noise
        else:
            z = mu
        probability = sampling_probability(step, settings.sampling_schedule,
                                           settings.sampling_rate) if training else 0.0
        logits = self.model.decode_logits(z, one_hot, sampling_probability=probability,
                                          seed=_sampling_seed(settings.seed, step),
                                          training=training)
        beta = beta_at(step, settings.max_beta, settings.beta_rate)
        terms = vae_losses(logits, tokens, mu, sigma, beta, settings.free_bits)
        terms["beta"] = tf.cast(beta, tf.float32)
        terms["sampling_probability"] = tf.cast(probability, tf.float32)
        return terms


def _sampling_seed(seed: int, step):
    context = tf.distribute.get_replica_context()
    replica = context.replica_id_in_sync_group if context is not None else 0
    mixed = tf.cast(step, tf.int64) * 7919 + tf.cast(replica, tf.int64)
    return tf.stack([tf.constant(seed + 1, tf.int32), tf.cast(mixed % (2**31 - 1), tf.int32)])


def vae_dataset_fn(data_dir: str | Path, config: Config):
    """The ``dataset_fn(input_context, start_step)`` of the prepared training split.

    After a restart at step ``s`` the shuffle and augmentation seed is ``training.seed + s``:
    the data order is a deterministic function of the step the run resumed from (checkpointing
    the iterator would store the shuffle buffer in every checkpoint).
    """
    from data_pipelines.reader import make_dataset

    def dataset_fn(input_context, start_step: int = 0):
        return make_dataset(str(data_dir), "train", config.data, config.training.batch_size,
                            training=True, seed=config.training.seed + int(start_step),
                            input_context=input_context)

    return dataset_fn
