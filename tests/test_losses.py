"""The SPEC §4 objective against a NumPy hand computation, and the clip-or-skip rule."""

import math

import numpy as np
import pytest
import tensorflow as tf

from musicvae_tf.models.music_vae.losses import vae_losses
from musicvae_tf.training.gradient_clip import clip_or_skip


def _numpy_losses(logits, tokens, mu, sigma, beta, free_bits):
    shifted = logits - logits.max(-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    ce = -np.take_along_axis(log_probs, tokens[..., None], -1)[..., 0]  # [B, T]
    recon = ce.sum(-1)
    kl = (0.5 * (sigma ** 2 + mu ** 2 - 1) - np.log(sigma)).sum(-1)
    kl_cost = np.maximum(kl - free_bits * math.log(2), 0)
    return {"loss": recon.mean() + beta * kl_cost.mean(), "reconstruction": recon.mean(),
            "kl_nats": kl.mean(), "kl_bits": kl.mean() / math.log(2),
            "accuracy": (logits.argmax(-1) == tokens).mean()}


@pytest.mark.parametrize("free_bits", [0.0, 2.0, 1000.0])
def test_matches_hand_computation(free_bits):
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(4, 6, 9)).astype(np.float32) * 3
    tokens = rng.integers(0, 9, size=(4, 6))
    mu = rng.normal(size=(4, 3)).astype(np.float32) * 2
    sigma = rng.uniform(0.1, 2.0, size=(4, 3)).astype(np.float32)
    expected = _numpy_losses(logits.astype(np.float64), tokens, mu.astype(np.float64),
                             sigma.astype(np.float64), 0.3, free_bits)
    for targets in (tf.one_hot(tokens, 9), tf.constant(tokens)):
        got = vae_losses(tf.constant(logits), targets, tf.constant(mu), tf.constant(sigma),
                         0.3, free_bits)
        for key, value in expected.items():
            np.testing.assert_allclose(got[key].numpy(), value, rtol=1e-5, err_msg=key)


def test_free_bits_apply_per_sequence_total():
    """A sequence below the free bits costs nothing, one above costs only the excess."""
    mu = tf.constant([[0.0, 0.0], [3.0, 0.0]])
    sigma = tf.ones([2, 2])
    logits = tf.zeros([2, 1, 3])
    tokens = tf.zeros([2, 1], tf.int32)
    # KL per sequence: 0 and 4.5 nats. Free bits 1 -> ln 2 nats free.
    got = vae_losses(logits, tokens, mu, sigma, beta=1.0, free_bits=1.0)
    recon = math.log(3)
    np.testing.assert_allclose(got["loss"].numpy(), recon + (4.5 - math.log(2)) / 2, rtol=1e-6)
    np.testing.assert_allclose(got["kl_nats"].numpy(), 2.25, rtol=1e-6)


def test_clip_or_skip():
    grads = [tf.constant([3.0, 0.0]), None, tf.constant([[4.0]])]
    clipped, norm, skipped = clip_or_skip(grads, clip_norm=1.0, skip_norm=1e4)
    assert clipped[1] is None and not bool(skipped)
    np.testing.assert_allclose(norm.numpy(), 5.0)
    np.testing.assert_allclose(clipped[0].numpy(), [0.6, 0.0], rtol=1e-6)
    np.testing.assert_allclose(clipped[2].numpy(), [[0.8]], rtol=1e-6)
    small, _, _ = clip_or_skip([tf.constant([0.3])], clip_norm=1.0, skip_norm=1e4)
    np.testing.assert_allclose(small[0].numpy(), [0.3], rtol=1e-6)
    huge, norm, skipped = clip_or_skip([tf.constant([1e4, 0.0])], 1.0, 1e4)
    assert bool(skipped) and float(norm) == 1e4
    np.testing.assert_array_equal(huge[0].numpy(), [0.0, 0.0])
    _, _, skipped = clip_or_skip([tf.constant([np.nan])], 1.0, 1e4)
    assert bool(skipped)
