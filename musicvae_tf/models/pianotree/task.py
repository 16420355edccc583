"""Training the PianoTree VAE: the loss of SPEC_MODELS §C with MusicVAE's KL handling.

Reconstruction per window: the pitch cross-entropy of every non-PAD slot (notes and each step's
EOS) plus the duration-bit cross-entropies of every note weighted 1, 0.6, 0.4, 0.3, 0.3 (MSB
first), SUMMED over the window (PianoTree averages per slot; a sum keeps it on the scale of the
KL, which is summed over latent dims as in our MusicVAE). Loss = mean over the batch of
reconstruction + beta * max(KL - free_bits * ln 2, 0), beta from ``training.max_beta`` /
``beta_rate`` (MusicVAE's schedule). Teacher forcing is full at every level (a deliberate
simplification of PianoTree's annealed ratios; greedy fully sampled decoding is evaluated).
"""

from __future__ import annotations

import tensorflow as tf

from musicvae_tf.training.task import TrainingTask


def reconstruction_terms(pitch_logits, bit_logits, classes, bits, weights):
    """Per-window ``(reconstruction [B], pitch_ce [B], duration_ce [B])`` and slot/bit
    accuracies of teacher-forced logits against ``targets_of`` targets."""
    valid = classes >= 0
    labels = tf.where(valid, classes, 0)
    pitch_ce = tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=labels, logits=tf.cast(pitch_logits, tf.float32)) * tf.cast(valid, tf.float32)
    is_note = tf.cast(valid & (classes < 128), tf.float32)
    bit_ce = tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=tf.cast(bits, tf.int32), logits=tf.cast(bit_logits, tf.float32))
    duration_ce = tf.reduce_sum(bit_ce * tf.constant(weights, tf.float32), -1) * is_note
    pitch_sum = tf.reduce_sum(pitch_ce, [1, 2])
    duration_sum = tf.reduce_sum(duration_ce, [1, 2])
    pitch_hit = tf.cast(tf.equal(tf.argmax(pitch_logits, -1, output_type=tf.int32), labels),
                        tf.float32)
    bit_hit = tf.reduce_all(tf.equal(tf.argmax(bit_logits, -1, output_type=tf.int32),
                                     tf.cast(bits, tf.int32)), -1)
    accuracy = {
        "pitch_accuracy": tf.reduce_sum(pitch_hit * tf.cast(valid, tf.float32))
        / tf.maximum(tf.reduce_sum(tf.cast(valid, tf.float32)), 1.0),
        "duration_accuracy": tf.reduce_sum(tf.cast(bit_hit, tf.float32) * is_note)
        / tf.maximum(tf.reduce_sum(is_note), 1.0)}
    return pitch_sum + duration_sum, pitch_sum, duration_sum, accuracy


class PianoTreeTask(TrainingTask):
    """The PianoTree VAE's objective (see the module docstring); logs pitch and duration terms,
    their accuracies, ``kl_bits`` and ``beta``. For the piano-roll baseline the reconstruction
    is the roll cross-entropy (``pianoroll.roll_terms``), with the same KL handling."""

    def __init__(self, config, model=None):
        from musicvae_tf.models.pianotree.model import build_model

        self.config = config
        self.model = model if model is not None else build_model(config)

    def losses(self, batch, step, training: bool) -> dict:
        import math

        from musicvae_tf.layers.schedules import beta_at
        from musicvae_tf.models.music_vae.losses import kl_to_standard_normal
        from musicvae_tf.models.pianotree.config import pianotree_settings
        from musicvae_tf.models.pianotree.model import crop_slots, targets_of

        inputs, tokens = crop_slots(*batch)
        settings = self.config.training
        mu, sigma = self.model.encode(inputs, training=training)
        mu, sigma = tf.cast(mu, tf.float32), tf.cast(sigma, tf.float32)
        z = mu + sigma * tf.random.normal(tf.shape(mu)) if training else mu
        terms = {}
        if pianotree_settings(self.config).architecture == "roll":
            from musicvae_tf.models.pianotree.pianoroll import roll_terms

            reconstruction, accuracy = roll_terms(self.model, inputs, z, training)
        else:
            classes, bits = targets_of(tokens)
            pitch_logits, bit_logits = self.model.decode_logits(z, classes, bits,
                                                                training=training)
            reconstruction, pitch_ce, duration_ce, accuracy = reconstruction_terms(
                pitch_logits, bit_logits, classes, bits,
                pianotree_settings(self.config).duration_weights)
            terms = {"pitch_ce": tf.reduce_mean(pitch_ce),
                     "duration_ce": tf.reduce_mean(duration_ce)}
        kl = kl_to_standard_normal(mu, sigma)
        beta = beta_at(step, settings.max_beta, settings.beta_rate)
        kl_cost = tf.maximum(kl - settings.free_bits * math.log(2.0), 0.0)
        loss = tf.reduce_mean(reconstruction) + tf.cast(beta, tf.float32) * tf.reduce_mean(kl_cost)
        return {"loss": loss, "reconstruction": tf.reduce_mean(reconstruction), **terms,
                "kl_bits": tf.reduce_mean(kl) / math.log(2.0), "beta": tf.cast(beta, tf.float32),
                **accuracy}
