"""Latent search (the 16-bar MusicVAE baseline): the gap is hidden and the objective goes down."""

import numpy as np

from musicvae_tf.models.inpainting.latent_search import mask_gap, search_latents, search_objective


class LinearDecoderVAE:
    """A stand-in MusicVAE whose logits at every step are ``z @ weights`` (z matters directly)."""

    def __init__(self, latent_dim=4, num_classes=6, seed=0):
        import tensorflow as tf

        rng = np.random.default_rng(seed)
        self.weights = tf.constant(rng.standard_normal((latent_dim, num_classes)), tf.float32)
        self.latent_dim = latent_dim

    def encode(self, one_hot, training=False):
        import tensorflow as tf

        batch = tf.shape(one_hot)[0]
        return tf.zeros([batch, self.latent_dim]), tf.ones([batch, self.latent_dim])

    def decode_logits(self, z, targets_one_hot, training=False):
        import tensorflow as tf

        steps = tf.shape(targets_one_hot)[1]
        return tf.tile((z @ self.weights)[:, None, :], [1, steps, 1])


def test_mask_gap_silences_only_the_gap_bars():
    tokens = np.arange(2 * 12).reshape(2, 12) + 2
    masked = mask_gap(tokens, gap_start=1, gap_length=1, steps_per_bar=4)
    assert (masked[:, 4:8] == 0).all()
    np.testing.assert_array_equal(masked[:, :4], tokens[:, :4])
    np.testing.assert_array_equal(masked[:, 8:], tokens[:, 8:])
    assert (tokens[:, 4:8] != 0).all()  # the input is not modified


def test_search_explains_known_steps_and_ignores_the_gap():
    import tensorflow as tf

    vae = LinearDecoderVAE()
    tokens = np.full((3, 12), 4, np.int32)
    tokens[:, 4:8] = 0  # the (masked) gap
    known = np.ones(12, bool)
    known[4:8] = False
    one_hot = tf.one_hot(tokens, 6)
    weights = tf.constant(known[None].astype(np.float32))
    start = float(search_objective(vae, tf.zeros([3, 4]), one_hot, tokens, weights))
    z = search_latents(vae, tokens, known, 6, steps=60, learning_rate=0.2)
    found = float(search_objective(vae, z, one_hot, tokens, weights))
    assert found < 0.6 * start
    # The known steps' class (4) now wins; the silent gap steps (class 0) were not fitted.
    logits = np.asarray(vae.decode_logits(z, one_hot))
    assert (logits.argmax(-1)[:, known] == 4).all()
