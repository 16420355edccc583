"""The MusicVAE objective (SPEC §4)."""

from __future__ import annotations

import math

import tensorflow as tf


def kl_to_standard_normal(mu, sigma):
    """Analytic KL(N(mu, sigma^2) || N(0, I)) summed over latent dims, in nats: ``[B]``."""
    mu = tf.cast(mu, tf.float32)
    sigma = tf.cast(sigma, tf.float32)
    variance = tf.square(sigma)
    per_dim = 0.5 * (variance + tf.square(mu) - 1.0) - tf.math.log(sigma + 1e-12)
    return tf.reduce_sum(per_dim, axis=-1)


def vae_losses(logits, targets, mu, sigma, beta, free_bits, output_splits=None):
    """Loss terms for one batch, all float32 scalars (batch means).

    Args:
      logits: ``[B, T, C]``; with ``output_splits`` the splits' logits side by side (one softmax
        each, their cross-entropies summed, as Magenta's multi-output decoders).
      targets: one-hot ``[B, T, C]`` or int tokens ``[B, T]`` (``[B, T, splits]`` with several).
      mu, sigma: posterior ``[B, Z]``.
      beta: KL weight for this step.
      free_bits: bits of KL per sequence that cost nothing.

    Returns:
      dict with ``loss = mean(recon) + beta * mean(max(KL - free_bits ln 2, 0))``,
      ``reconstruction`` (cross-entropy summed over steps, mean over the batch), ``kl_nats`` and
      ``kl_bits`` (mean total KL per sequence, before free bits) and ``accuracy`` (fraction of
      steps, and splits, whose argmax equals the target).
    """
    logits = tf.cast(logits, tf.float32)
    targets = tf.convert_to_tensor(targets)
    splits = list(output_splits or [int(logits.shape[-1])])
    if targets.dtype.is_floating:
        targets = predicted_tokens(targets, splits)
    tokens = tf.cast(targets, tf.int32)
    cross_entropy = sequence_cross_entropy(logits, tokens, splits)
    correct = tf.equal(predicted_tokens(logits, splits), tokens)
    reconstruction = tf.reduce_sum(cross_entropy, axis=-1)
    kl = kl_to_standard_normal(mu, sigma)
    beta = tf.cast(beta, tf.float32)
    loss = tf.reduce_mean(reconstruction) + beta * tf.reduce_mean(kl_above_free_bits(kl, free_bits))
    kl_nats = tf.reduce_mean(kl)
    return {
        "loss": loss,
        "reconstruction": tf.reduce_mean(reconstruction),
        "kl_nats": kl_nats,
        "kl_bits": kl_nats / math.log(2.0),
        "accuracy": tf.reduce_mean(tf.cast(correct, tf.float32)),
    }


def kl_above_free_bits(kl, free_bits):
    """``max(KL - free_bits ln 2, 0)`` per example: the KL that costs (``kl`` in nats)."""
    return tf.maximum(kl - tf.cast(free_bits, tf.float32) * math.log(2.0), 0.0)


def sequence_cross_entropy(logits, tokens, output_splits):
    """Cross-entropy per step ``[B, T]``: of each output split's softmax, summed over splits."""
    if len(output_splits) == 1:
        return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tokens, logits=logits)
    return tf.add_n([tf.nn.sparse_softmax_cross_entropy_with_logits(labels=label, logits=part)
                     for label, part in zip(tf.unstack(tokens, axis=-1),
                                            tf.split(logits, list(output_splits), axis=-1))])


def predicted_tokens(logits, output_splits):
    """The argmax token of each output split: int32 ``[B, T]`` for one split, else
    ``[B, T, splits]``."""
    if len(output_splits) == 1:
        return tf.argmax(logits, axis=-1, output_type=tf.int32)
    return tf.stack([tf.argmax(part, axis=-1, output_type=tf.int32)
                     for part in tf.split(logits, list(output_splits), axis=-1)], axis=-1)
