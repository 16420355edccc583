"""The vector quantiser: nearest code, straight-through gradient, EMA update, dead-code restart."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from musicvae_tf.models.vq_vae.quantizer import VectorQuantizerEMA, code_usage


def _quantizer(codebook, decay=0.9, threshold=1.0):
    quantizer = VectorQuantizerEMA(len(codebook), codebook.shape[1], decay=decay, epsilon=1e-5,
                                   dead_threshold=threshold)
    quantizer.build()
    quantizer.codebook.assign(codebook)
    quantizer.ema_sum.assign(codebook)
    quantizer.ema_count.assign(np.ones(len(codebook), np.float32))
    quantizer.initialized.assign(1.0)
    return quantizer


CODEBOOK = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]], np.float32)


def test_each_vector_gets_its_nearest_code():
    quantizer = _quantizer(CODEBOOK)
    z = np.array([[[0.1, -0.1], [0.9, 0.3], [0.2, 1.5], [0.6, 0.0]]], np.float32)
    z_q, codes, commitment = quantizer(z)
    assert codes.numpy().tolist() == [[0, 1, 2, 1]]
    np.testing.assert_allclose(z_q.numpy(), CODEBOOK[[0, 1, 2, 1]][None], atol=1e-6)
    expected = 0.25 * np.mean((z[0] - CODEBOOK[[0, 1, 2, 1]]) ** 2)
    np.testing.assert_allclose(float(commitment), expected, rtol=1e-5)


def test_gradient_passes_straight_through_and_commitment_pulls_to_the_code():
    quantizer = _quantizer(CODEBOOK)
    z = tf.constant([[0.9, 0.3], [0.2, 1.5]])
    weights = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(z)
        z_q, _, commitment = quantizer(z)
        downstream = tf.reduce_sum(z_q * weights)
    np.testing.assert_allclose(tape.gradient(downstream, z).numpy(), weights.numpy())
    pull = tape.gradient(commitment, z).numpy()
    np.testing.assert_allclose(pull, 0.25 * 2 * (z.numpy() - CODEBOOK[[1, 2]]) / z.numpy().size,
                               rtol=1e-5)
    assert not quantizer.trainable_weights


def test_ema_update_follows_the_laplace_smoothed_formula():
    quantizer = _quantizer(CODEBOOK, decay=0.9, threshold=0.0)
    z = np.array([[0.2, 0.0], [0.8, 0.2], [1.2, 0.0], [0.0, 1.8]], np.float32)
    codes = quantizer.nearest(z)
    assert codes.numpy().tolist() == [0, 1, 1, 2]
    restarted = quantizer.update(z, codes, tf.constant([1, 2]))
    counts = 0.9 * 1.0 + 0.1 * np.array([1, 2, 1], np.float32)
    sums = 0.9 * CODEBOOK + 0.1 * np.stack([z[0], z[1] + z[2], z[3]])
    total = counts.sum()
    smoothed = (counts + 1e-5) / (total + 3 * 1e-5) * total
    np.testing.assert_allclose(quantizer.ema_count.numpy(), counts, rtol=1e-6)
    np.testing.assert_allclose(quantizer.codebook.numpy(), sums / smoothed[:, None], rtol=1e-5)
    assert int(restarted) == 0


def test_first_update_fills_the_codebook_from_the_batch():
    quantizer = VectorQuantizerEMA(4, 2)
    quantizer.build()
    z = np.array([[5.0, 5.0], [-5.0, 5.0]], np.float32)
    quantizer.update(z, quantizer.nearest(z), tf.constant([0, 0]))
    distances = np.abs(quantizer.codebook.numpy()[:, None] - z[None]).max(-1).min(-1)
    assert distances.max() < 0.05
    assert float(quantizer.initialized) == 1.0


def test_a_dead_code_restarts_at_an_encoder_output():
    quantizer = _quantizer(CODEBOOK, decay=0.9, threshold=1.0)
    z = np.array([[0.1, 0.0], [0.9, 0.1], [1.1, 0.0], [0.0, 0.1]], np.float32)  # never code 2
    restarted = quantizer.update(z, quantizer.nearest(z), tf.constant([3, 4]))
    assert int(restarted) == 1
    moved = quantizer.codebook.numpy()[2]
    assert np.abs(z - moved).max(-1).min() < 0.05
    assert quantizer.ema_count.numpy()[2] == 1.0
    assert quantizer.nearest(moved[None]).numpy()[0] in (0, 1, 2)


def test_code_usage_is_perplexity_and_share_used():
    usage = code_usage(tf.constant([0, 0, 1, 1]), 4)
    np.testing.assert_allclose(float(usage["code_perplexity"]), 2.0, rtol=1e-5)
    assert float(usage["code_usage"]) == 0.5
