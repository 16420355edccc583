"""MusicVAE as a TrainingTask: schedules from the step, reparameterised posterior, ``vae_losses``."""

from __future__ import annotations

from pathlib import Path

import tensorflow as tf

from musicvae_tf.config import Config
from musicvae_tf.training.noise import replica_invariant_normal
from musicvae_tf.training.task import TrainingTask


class VAETask(TrainingTask):
    """Trains a :class:`musicvae_tf.models.music_vae.model.MusicVAE` on ``(encoder_inputs, tokens)``
    batches (SPEC §4); the decoder's targets and controls come from the tokens through the
    config's encoding (``Encoding.decoder_inputs``).

    The posterior noise is drawn per example from ``(training.seed, step)`` independently of how
    the batch is split over replicas (see ``noise.replica_invariant_normal``), so a run on N
    devices computes the same loss and update as a run on one. The scheduled-sampling draws are
    keyed by ``(seed, step, replica)``; they are statistically the same under any split but not
    bit-identical, so equality across device counts holds for configs without scheduled sampling.
    """

    def __init__(self, config: Config, model=None, diagnostic_batch=None):
        """``diagnostic_batch`` is a fixed held-out ``(one_hot, tokens)`` batch, or a callable
        returning one (or None) when first needed: after the strategy exists, since multi-worker
        strategies must be created before any TensorFlow op runs."""
        from musicvae_tf.models.music_vae.model import build_model

        from data_pipelines.encodings import encoding_for

        self.config = config
        self.encoding = encoding_for(config.data)
        self.model = model if model is not None else build_model(config)
        self.diagnostic_batch = diagnostic_batch
        self._diagnostics_pass = None

    def summary_metrics(self) -> dict:
        """Collapse diagnostics (``musicvae_tf.models.music_vae.latent_diagnostics``) on the fixed held-out
        ``diagnostic_batch``, when the task was given one."""
        from musicvae_tf.models.music_vae.latent_diagnostics import diagnostics_pass, summarize_latents

        if callable(self.diagnostic_batch):
            self.diagnostic_batch = self.diagnostic_batch()
        if self.diagnostic_batch is None:
            return {}
        if self._diagnostics_pass is None:
            def one_pass(inputs, tokens):
                targets, output_tokens, controls = self.encoding.decoder_inputs(tokens)
                return diagnostics_pass(self.model, inputs, output_tokens, targets, controls)

            self._diagnostics_pass = tf.function(one_pass)
        outputs = self._diagnostics_pass(*self.diagnostic_batch)
        return summarize_latents(*(t.numpy() for t in outputs))

    def extra_checkpoint_objects(self) -> dict:
        """The model's non-trainable state (e.g. ``model.mu_batch_norm``'s moving statistics)."""
        return model_state_objects(self.model)

    def health_warning(self, metrics: dict, step: int) -> str | None:
        """The collapse warning once ``training.collapse_warmup_steps`` have passed."""
        from musicvae_tf.models.music_vae.latent_diagnostics import collapse_warning

        if step < self.config.training.collapse_warmup_steps:
            return None
        return collapse_warning(metrics)

    def posterior(self, inputs, step, training: bool, noise_warmup_steps: int):
        """``(mu, sigma, z)`` float32 of a batch: z a posterior sample when training (noise keyed
        by ``(training.seed, step)``, ramped in over ``noise_warmup_steps``), else mu."""
        mu, sigma = self.model.encode(inputs, training=training)
        mu, sigma = tf.cast(mu, tf.float32), tf.cast(sigma, tf.float32)
        if not training:
            return mu, sigma, mu
        noise = replica_invariant_normal(tf.shape(mu)[0], self.model.latent_dim,
                                         self.config.training.seed, step)
        return mu, sigma, mu + sigma * noise * noise_scale(step, noise_warmup_steps)

    def losses(self, batch, step, training: bool) -> dict:
        """Loss terms of one batch plus the step's ``beta`` and ``sampling_probability``."""
        from musicvae_tf.models.music_vae.losses import vae_losses
        from musicvae_tf.layers.schedules import beta_at, sampling_probability

        inputs, tokens = batch
        targets, output_tokens, controls = self.encoding.decoder_inputs(tokens)
        settings = self.config.training
        mu, sigma, z = self.posterior(inputs, step, training,
                                      settings.latent_noise_warmup_steps)
        probability = sampling_probability(step, settings.sampling_schedule,
                                           settings.sampling_rate) if training else 0.0
        decoder_targets = targets
        if training and settings.token_dropout > 0:
            decoder_targets = drop_tokens(targets, settings.token_dropout, settings.seed, step)
        logits = self.model.decode_logits(z, decoder_targets, sampling_probability=probability,
                                          seed=_sampling_seed(settings.seed, step),
                                          training=training, controls=controls,
                                          stepwise=settings.jit_compile)
        beta = beta_at(step, settings.max_beta, settings.beta_rate)
        terms = vae_losses(logits, output_tokens, mu, sigma, beta, settings.free_bits,
                           self.model.output_splits)
        terms["beta"] = tf.cast(beta, tf.float32)
        terms["sampling_probability"] = tf.cast(probability, tf.float32)
        return terms


def model_state_objects(model) -> dict:
    """``{"model_state": ...}`` holding ``model``'s non-trainable variables, or ``{}`` without any.

    Keras 3 models are not part of TensorFlow's checkpoint graph: their trainable variables are
    saved through the optimiser, and this entry saves the rest (batch-norm moving statistics).
    """
    variables = list(model.non_trainable_variables)
    return {"model_state": tf.train.Checkpoint(variables=variables)} if variables else {}


def noise_scale(step, warmup_steps: int):
    """The share of the posterior noise used at ``step``: ramps linearly from 0 to 1 over
    ``warmup_steps`` (1 throughout when 0).

    With no noise the model starts as a plain autoencoder, so the decoder learns to read z before
    sampling noise can teach it to ignore z; the KL term is unaffected.
    """
    if warmup_steps <= 0:
        return 1.0
    return tf.minimum(1.0, tf.cast(step, tf.float32) / float(warmup_steps))


def drop_tokens(one_hot, rate: float, seed: int, step):
    """``one_hot`` with each step's vector zeroed with probability ``rate`` (per example, keyed by
    ``(seed, step)`` and independent of the replica split).

    The decoder reads its teacher-forcing inputs from these targets, so a dropped step gives it no
    previous token (the same all-zero input as the first step): word dropout (Bowman et al. 2016),
    which makes a decoder rely on z instead of only the tokens before it. The loss still scores
    every true token.
    """
    from musicvae_tf.training.noise import replica_invariant_uniform

    shape = tf.shape(one_hot)
    draws = replica_invariant_uniform(shape[0], shape[1], seed, step, salt=2)
    keep = tf.cast(draws >= rate, one_hot.dtype)
    return one_hot * keep[..., tf.newaxis]


def _sampling_seed(seed: int, step):
    context = tf.distribute.get_replica_context()
    replica = context.replica_id_in_sync_group if context is not None else 0
    mixed = tf.cast(step, tf.int64) * 7919 + tf.cast(replica, tf.int64)
    return tf.stack([tf.constant(seed + 1, tf.int32), tf.cast(mixed % (2**31 - 1), tf.int32)])


def diagnostic_batch(data_dir: str | Path, config: Config, size: int = 256):
    """The first ``size`` windows of the eval split (the train split when eval is empty) as a
    fixed ``(one_hot, tokens)`` batch for the training summaries' collapse diagnostics; None
    when the data dir has fewer than two windows."""
    from data_pipelines.reader import make_dataset
    from data_pipelines.errors import MusicVAEError

    for split in ("eval", "train"):
        try:
            batch = next(iter(make_dataset(str(data_dir), split, config.data, size,
                                           training=False)), None)
        except MusicVAEError:
            continue
        if batch is not None and int(batch[1].shape[0]) >= 2:
            return batch
    return None


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
