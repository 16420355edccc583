"""Posterior-collapse diagnostics: KL per latent dimension, active units and the z-shuffle gap.

A VAE whose decoder ignores z reconstructs a sequence just as well from another sequence's latent.
The z-shuffle gap measures exactly that: teacher-forced accuracy with each example's own posterior
mean minus accuracy with the mean of the next example in the batch (a fixed derangement). A gap
near 0 means z carries nothing the decoder uses, whatever the KL says; active units (posterior-mean
variance across examples above 0.01, SPEC §6) says whether the encoder's means move at all.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from musicvae_tf.models.music_vae.losses import predicted_tokens

ACTIVE_UNIT_THRESHOLD = 0.01
# A run counts as collapsed when, after warm-up, no unit is active or the gap is below 1 point.
COLLAPSE_GAP = 0.01


def kl_per_dimension(mu, sigma):
    """KL(N(mu, sigma^2) || N(0, 1)) per example and latent dimension, in nats: ``[B, Z]``."""
    mu, sigma = tf.cast(mu, tf.float32), tf.cast(sigma, tf.float32)
    return 0.5 * (tf.square(sigma) + tf.square(mu) - 1.0) - tf.math.log(sigma + 1e-12)


def teacher_forced_hits(model, z, one_hot, tokens, controls=None):
    """Per-step correctness (bool ``[B, T]``, ``[B, T, splits]`` with several output splits) of
    the teacher-forced argmax given ``z``; ``one_hot`` are the decoder's targets."""
    logits = model.decode_logits(z, one_hot, training=False, controls=controls)
    return tf.equal(predicted_tokens(logits, model.output_splits), tf.cast(tokens, tf.int32))


def shuffled_latents(mu):
    """Each example gets the posterior mean of the next one in the batch (the last gets the
    first's), so no example keeps its own."""
    return tf.roll(mu, shift=-1, axis=0)


def diagnostics_pass(model, one_hot, tokens, targets=None, controls=None):
    """One batch: ``(mu, sigma, own-z hits, shuffled-z hits)`` (hits are bool ``[B, T]``).

    ``one_hot`` are the encoder inputs; the decoder's ``targets`` (one-hots of the output tokens)
    default to them, as for a melody, and ``controls`` go to the decoder when given."""
    targets = one_hot if targets is None else targets
    mu, sigma = model.encode(one_hot, training=False)
    mu, sigma = tf.cast(mu, tf.float32), tf.cast(sigma, tf.float32)
    own = teacher_forced_hits(model, mu, targets, tokens, controls)
    other = teacher_forced_hits(model, shuffled_latents(mu), targets, tokens, controls)
    return mu, sigma, own, other


def summarize_latents(mu: np.ndarray, sigma: np.ndarray, own_hits: np.ndarray,
                      other_hits: np.ndarray) -> dict:
    """JSON-ready diagnostics from stacked ``mu``/``sigma`` ``[N, Z]`` and hits ``[N, T]``."""
    per_dim_bits = (kl_per_dimension(mu, sigma).numpy().mean(axis=0) / math.log(2.0))
    own, other = float(np.mean(own_hits)), float(np.mean(other_hits))
    return {
        "active_units": int((mu.var(axis=0) > ACTIVE_UNIT_THRESHOLD).sum()),
        "z_shuffle_gap": own - other,
        "accuracy_own_z": own,
        "accuracy_shuffled_z": other,
        "kl_bits_per_dim": [round(float(v), 4) for v in per_dim_bits],
    }


def latent_diagnostics(model, one_hot, tokens) -> dict:
    """Diagnostics of one held-out batch (at least two examples) as a dict."""
    mu, sigma, own, other = diagnostics_pass(model, one_hot, tokens)
    return summarize_latents(mu.numpy(), sigma.numpy(), own.numpy(), other.numpy())


def collapse_warning(diagnostics: dict) -> str | None:
    """A one-line warning when the diagnostics show posterior collapse, else None."""
    active, gap = diagnostics.get("active_units"), diagnostics.get("z_shuffle_gap")
    if active is None or gap is None:
        return None
    if active == 0 or gap < COLLAPSE_GAP:
        return (f"posterior collapse: {active} active latent units, z-shuffle gap "
                f"{100 * gap:.1f} points (the decoder ignores z); see README 'Posterior collapse'")
    return None
