"""The SketchVAE's training task: summed token cross-entropy + beta * summed KL (free bits)."""

from __future__ import annotations

import math

import tensorflow as tf

from musicvae_tf.training.task import TrainingTask


class SketchVAETask(TrainingTask):
    """Loss per bar = cross-entropy summed over its steps + ``beta`` * max(KL_pitch + KL_rhythm
    - free_bits ln 2, 0), KLs summed over latent dims (§B5: the original averaged them over dims,
    a tiny effective beta); batch mean. Logs both KLs in bits and the token accuracy."""

    def __init__(self, config, model=None):
        from musicvae_tf.models.sketch_vae.config import sketch_vae_settings
        from musicvae_tf.models.sketch_vae.model import build_sketch_vae

        self.config = config
        self.settings = sketch_vae_settings(config)
        self.model = model if model is not None else build_sketch_vae(config)

    def losses(self, batch, step, training: bool) -> dict:
        from musicvae_tf.models.music_vae.losses import kl_to_standard_normal

        _, tokens = batch
        tokens = tf.cast(tokens, tf.int32)
        mu_p, sigma_p, mu_r, sigma_r = self.model.encode(tokens, training=training)
        mu = tf.concat([mu_p, mu_r], -1)
        z = mu + tf.concat([sigma_p, sigma_r], -1) * tf.random.normal(tf.shape(mu), dtype=mu.dtype) \
            if training else mu
        logits = tf.cast(self.model.decode_logits(z, tokens, training=training), tf.float32)
        cross_entropy = tf.reduce_sum(tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=tokens, logits=logits), axis=-1)
        kl_pitch = kl_to_standard_normal(mu_p, sigma_p)
        kl_rhythm = kl_to_standard_normal(mu_r, sigma_r)
        free = self.settings.free_bits * math.log(2.0)
        kl_cost = tf.maximum(kl_pitch + kl_rhythm - free, 0.0)
        reconstruction = tf.reduce_mean(cross_entropy)
        correct = tf.equal(tf.argmax(logits, -1, output_type=tf.int32), tokens)
        return {"loss": reconstruction + self.settings.beta * tf.reduce_mean(kl_cost),
                "reconstruction": reconstruction,
                "kl_pitch_bits": tf.reduce_mean(kl_pitch) / math.log(2.0),
                "kl_rhythm_bits": tf.reduce_mean(kl_rhythm) / math.log(2.0),
                "accuracy": tf.reduce_mean(tf.cast(correct, tf.float32))}
