"""One stage of a staged MusicVAE training run (``curriculum``) as a TrainingTask."""

from __future__ import annotations

import math

import tensorflow as tf

from musicvae_tf.models.music_vae.task import VAETask


class StageTask(VAETask):
    """Trains a hierarchical MusicVAE for one :class:`CurriculumStage`.

    Besides the VAE terms (token cross-entropy, KL above the free bits) the loss has a latent
    term: the frozen one-bar ``bar_model`` encodes every bar of the window, and each bar latent
    ``c_u`` of the conductor is pulled to that posterior's mean, in units of the posterior's
    sigma (averaged over the batch per dimension, so dimensions the bar model leaves unused
    count little). With ``trains: top`` the bar level does not move; a stage with
    ``token_weight`` 0 never runs the bar decoder, which makes it several times faster.
    """

    def __init__(self, config, stage, bar_model=None, model=None, diagnostic_batch=None):
        super().__init__(config, model=model, diagnostic_batch=diagnostic_batch)
        self.stage = stage
        self.bar_model = bar_model
        if bar_model is not None:
            bar_model.trainable = False

    @property
    def learning_rate(self):
        """The stage's learning rate (``training.learning_rate`` when 0), decayed as
        ``config.training`` says."""
        from musicvae_tf.layers.schedules import LearningRateDecay

        training = self.config.training
        start = self.stage.learning_rate or training.learning_rate
        return LearningRateDecay(start, min(training.min_learning_rate, start),
                                 training.decay_rate)

    @property
    def trainable_variables(self) -> list:
        """Everything, or everything but the bar level (``trains: top``)."""
        from musicvae_tf.models.music_vae.bar_level import stage_variables

        return stage_variables(self.model, self.stage.trains)

    def losses(self, batch, step, training: bool) -> dict:
        """The stage's weighted loss and its terms for one batch."""
        from musicvae_tf.layers.schedules import beta_at, sampling_probability
        from musicvae_tf.models.music_vae.losses import (kl_above_free_bits,
                                                         kl_to_standard_normal, vae_losses)

        inputs, tokens = batch
        settings, stage = self.config.training, self.stage
        warmup = (settings.latent_noise_warmup_steps if stage.latent_noise_warmup_steps < 0
                  else stage.latent_noise_warmup_steps)
        mu, sigma, z = self.posterior(inputs, step, training, warmup)
        beta = tf.cast(beta_at(step, settings.max_beta, settings.beta_rate), tf.float32)
        kl = kl_to_standard_normal(mu, sigma)
        kl_nats = tf.reduce_mean(kl)
        terms = {"kl_nats": kl_nats, "kl_bits": kl_nats / math.log(2.0), "beta": beta}
        loss = beta * tf.reduce_mean(kl_above_free_bits(kl, settings.free_bits))
        if stage.token_weight > 0:
            targets, output_tokens, controls = self.encoding.decoder_inputs(tokens)
            probability = sampling_probability(step, settings.sampling_schedule,
                                               settings.sampling_rate) if training else 0.0
            logits = self.model.decode_logits(z, targets, sampling_probability=probability,
                                              training=training, controls=controls,
                                              stepwise=settings.jit_compile)
            token_terms = vae_losses(logits, output_tokens, mu, sigma, beta, settings.free_bits,
                                     self.model.output_splits)
            terms.update(reconstruction=token_terms["reconstruction"],
                         accuracy=token_terms["accuracy"],
                         sampling_probability=tf.cast(probability, tf.float32))
            loss += stage.token_weight * token_terms["reconstruction"]
        if stage.latent_weight > 0:
            latent = self.latent_loss(inputs, z)
            terms["latent_loss"] = latent
            loss += stage.latent_weight * latent
        terms["loss"] = loss
        return terms

    def latent_loss(self, inputs, z):
        """Mean over the batch of ``sum_u,d ((c_u - mean_u) / sigma_d)^2 / 2``: the conductor's
        bar latents against the bar model's posterior means of the true bars."""
        steps = self.model.steps_per_bar
        bars = tf.reshape(inputs, [-1, steps, inputs.shape[-1]])
        target, spread = self.bar_model.encode(bars, training=False)
        target = tf.reshape(tf.cast(target, tf.float32), [tf.shape(z)[0], self.model.num_bars, -1])
        scale = tf.stop_gradient(tf.reduce_mean(tf.cast(spread, tf.float32), axis=0))
        latents = tf.cast(self.model.decoder.bar_embeddings(z), tf.float32)
        error = tf.square((latents - tf.stop_gradient(target)) / scale)
        return tf.reduce_mean(0.5 * tf.reduce_sum(error, axis=[1, 2]))
