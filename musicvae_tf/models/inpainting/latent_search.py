"""Inpainting with a whole-window MusicVAE (e.g. the 16-bar hierarchical one) by searching its latent.

None of the reference systems offers this: the gap bars are replaced by silence, z starts at the
encoder's mean of that masked window, and Adam takes gradient steps on z (the model stays fixed) to
minimise the summed cross-entropy of the KNOWN bars plus the Gaussian prior term ``|z|^2 / 2``
(a MAP estimate). The decoder is teacher-forced on the masked window during the search, so the
true gap tokens never leak into it. The found z is then decoded and its gap bars are the answer.
"""

from __future__ import annotations

import weakref

import numpy as np

from data_pipelines.tokens import NO_EVENT


def mask_gap(tokens: np.ndarray, gap_start: int, gap_length: int, steps_per_bar: int) -> np.ndarray:
    """Copy of window tokens ``[B, T]`` with the gap bars replaced by silence (NO_EVENT)."""
    masked = np.array(tokens, copy=True)
    masked[:, gap_start * steps_per_bar:(gap_start + gap_length) * steps_per_bar] = NO_EVENT
    return masked


def search_objective(vae, z, one_hot, tokens, weights):
    """Mean over the batch of the known steps' summed cross-entropy plus ``|z|^2 / 2``."""
    import keras
    import tensorflow as tf

    logits = vae.decode_logits(z, one_hot, training=False)
    cross_entropy = keras.losses.sparse_categorical_crossentropy(tokens, logits, from_logits=True)
    per_example = tf.reduce_sum(cross_entropy * weights, axis=-1) + 0.5 * tf.reduce_sum(tf.square(z), -1)
    return tf.reduce_mean(per_example)


def search_latents(vae, masked_tokens: np.ndarray, known_steps: np.ndarray, num_classes: int,
                   steps: int = 100, learning_rate: float = 0.1):
    """MAP latents ``[B, Z]`` of a MusicVAE that explain the known steps of ``masked_tokens`` [B, T].

    ``known_steps`` is a ``[T]`` bool mask of the steps whose tokens count in the objective.
    """
    import tensorflow as tf

    tokens = tf.constant(masked_tokens, tf.int32)
    one_hot = tf.one_hot(tokens, num_classes)
    weights = tf.cast(tf.constant(known_steps)[None, :], tf.float32)
    mu, _ = vae.encode(one_hot, training=False)
    search = _SEARCHES.get(vae)
    if search is None:
        search = _SEARCHES[vae] = tf.function(_adam_search, reduce_retracing=True)
    return search(vae, tf.cast(mu, tf.float32), one_hot, tokens, weights, tf.constant(int(steps)),
                  tf.constant(float(learning_rate)))


# One traced search per model (a fresh tf.function per call would retrace every time).
_SEARCHES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _adam_search(vae, z, one_hot, tokens, weights, steps, learning_rate):
    """Adam (beta1 0.9, beta2 0.999, eps 1e-7) on z alone, written out so it needs no variables."""
    import tensorflow as tf

    def body(step, z, first, second):
        with tf.GradientTape() as tape:
            tape.watch(z)
            objective = search_objective(vae, z, one_hot, tokens, weights)
        grad = tape.gradient(objective, z)
        first = 0.9 * first + 0.1 * grad
        second = 0.999 * second + 0.001 * tf.square(grad)
        t = tf.cast(step + 1, tf.float32)
        corrected = learning_rate * tf.sqrt(1.0 - 0.999 ** t) / (1.0 - 0.9 ** t)
        return step + 1, z - corrected * first / (tf.sqrt(second) + 1e-7), first, second

    zeros = tf.zeros_like(z)
    _, z, _, _ = tf.while_loop(lambda step, *_: step < steps, body, (tf.constant(0), z, zeros, zeros))
    return z
