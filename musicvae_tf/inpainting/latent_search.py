"""Inpainting with a whole-window MusicVAE (e.g. the 16-bar hierarchical one) by searching its latent.

None of the reference systems offers this: the gap bars are replaced by silence, z starts at the
encoder's mean of that masked window, and Adam takes gradient steps on z (the model stays fixed) to
minimise the summed cross-entropy of the KNOWN bars plus the Gaussian prior term ``|z|^2 / 2``
(a MAP estimate). The decoder is teacher-forced on the masked window during the search, so the
true gap tokens never leak into it. The found z is then decoded and its gap bars are the answer.
"""

from __future__ import annotations

import numpy as np

from data_pipelines.tokens import NO_EVENT


def mask_gap(tokens: np.ndarray, gap_start: int, gap_length: int, steps_per_bar: int) -> np.ndarray:
    """Copy of window tokens ``[B, T]`` with the gap bars replaced by silence (NO_EVENT)."""
    masked = np.array(tokens, copy=True)
    masked[:, gap_start * steps_per_bar:(gap_start + gap_length) * steps_per_bar] = NO_EVENT
    return masked


def search_latents(vae, masked_tokens: np.ndarray, known_steps: np.ndarray, num_classes: int,
                   steps: int = 100, learning_rate: float = 0.1):
    """MAP latents ``[B, Z]`` of a MusicVAE that explain the known steps of ``masked_tokens`` [B, T].

    ``known_steps`` is a ``[T]`` bool mask of the steps whose tokens count in the objective.
    """
    import keras
    import tensorflow as tf

    tokens = tf.constant(masked_tokens, tf.int32)
    one_hot = tf.one_hot(tokens, num_classes)
    weights = tf.cast(tf.constant(known_steps)[None, :], tf.float32)
    mu, _ = vae.encode(one_hot, training=False)
    z = tf.Variable(tf.cast(mu, tf.float32), trainable=True, name="searched_z")
    optimizer = keras.optimizers.Adam(learning_rate)
    optimizer.build([z])
    batch = tf.cast(tf.shape(tokens)[0], tf.float32)

    @tf.function
    def run_search():
        for _ in tf.range(steps):
            with tf.GradientTape() as tape:
                logits = vae.decode_logits(z, one_hot, training=False)
                cross_entropy = keras.losses.sparse_categorical_crossentropy(tokens, logits,
                                                                             from_logits=True)
                objective = (tf.reduce_sum(cross_entropy * weights)
                             + 0.5 * tf.reduce_sum(tf.square(z))) / batch
            optimizer.apply_gradients([(tape.gradient(objective, z), z)])
        return objective

    run_search()
    return z.read_value()
