"""Vector quantiser with an EMA codebook and dead-code restarts (SPEC_MODELS §D1).

Nearest code by squared L2, straight-through gradient ``z_q = z_e + sg(e_k - z_e)``, commitment
loss ``beta * mean((z_e - sg(e_k))^2)`` (the codebook itself gets no gradient: Sonnet's
``VectorQuantizerEMA``). Each training step moves the cluster counts ``N`` and sums ``m`` by EMA
with Laplace smoothing and sets ``e = m / N``; the first step fills the codebook from random
encoder outputs, and every code whose EMA count falls below ``dead_threshold`` is replaced by a
random encoder output of the current batch (Jukebox's restart). Under a mirrored strategy the
replicas' updates are averaged (``aggregation="mean"``), so every replica keeps one codebook.
"""

from __future__ import annotations

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="musicvae_tf")
class VectorQuantizerEMA(keras.layers.Layer):
    """``codebook_size`` codes of ``code_dim``; inputs ``[..., code_dim]``."""

    def __init__(self, codebook_size, code_dim, decay=0.99, epsilon=1e-5, commitment=0.25,
                 dead_threshold=1.0, **kwargs):
        super().__init__(dtype="float32", **kwargs)
        self.codebook_size = int(codebook_size)
        self.code_dim = int(code_dim)
        self.decay = float(decay)
        self.epsilon = float(epsilon)
        self.commitment = float(commitment)
        self.dead_threshold = float(dead_threshold)

    def build(self, input_shape=None):
        shape = (self.codebook_size, self.code_dim)
        self.codebook = self.add_weight(shape=shape, initializer="random_normal",
                                        trainable=False, aggregation="mean", name="codebook")
        self.ema_count = self.add_weight(shape=(self.codebook_size,), initializer="zeros",
                                         trainable=False, aggregation="mean", name="ema_count")
        self.ema_sum = self.add_weight(shape=shape, initializer="zeros", trainable=False,
                                       aggregation="mean", name="ema_sum")
        self.initialized = self.add_weight(shape=(), initializer="zeros", trainable=False,
                                           aggregation="mean", name="initialized")
        self.built = True

    def nearest(self, z_e):
        """Index int32 ``[...]`` of the nearest code to each vector of ``z_e [..., D]``."""
        flat = tf.reshape(tf.cast(z_e, tf.float32), [-1, self.code_dim])
        distances = (tf.reduce_sum(tf.square(flat), 1, keepdims=True)
                     - 2.0 * tf.matmul(flat, self.codebook, transpose_b=True)
                     + tf.reduce_sum(tf.square(self.codebook), 1)[tf.newaxis])
        codes = tf.argmin(distances, axis=-1, output_type=tf.int32)
        return tf.reshape(codes, tf.shape(z_e)[:-1])

    def lookup(self, codes):
        """Code vectors ``[..., D]`` of indices ``codes``."""
        return tf.gather(self.codebook, codes)

    def call(self, z_e):
        """``(z_q straight-through, codes, commitment loss)``."""
        z_e = tf.cast(z_e, tf.float32)
        codes = self.nearest(z_e)
        quantized = self.lookup(codes)
        commitment = self.commitment * tf.reduce_mean(tf.square(z_e - tf.stop_gradient(quantized)))
        return z_e + tf.stop_gradient(quantized - z_e), codes, commitment

    def update(self, z_e, codes, seed):
        """One EMA step on the batch ``z_e [..., D]`` assigned to ``codes``, then restarts; the
        first call initialises the codebook from the batch. ``seed`` ``[2]`` int32 picks the
        random encoder outputs. Returns the number of codes restarted."""
        flat = tf.reshape(tf.stop_gradient(tf.cast(z_e, tf.float32)), [-1, self.code_dim])
        random_rows = self._random_rows(flat, seed)

        # No tf.cond around the assignments: under a mirrored strategy each one is a merge_call.
        one_hot = tf.one_hot(tf.reshape(codes, [-1]), self.codebook_size)
        count = self.decay * self.ema_count + (1.0 - self.decay) * tf.reduce_sum(one_hot, 0)
        total = tf.reduce_sum(count)
        smoothed = (count + self.epsilon) / (total + self.codebook_size * self.epsilon) * total
        sums = self.decay * self.ema_sum + (1.0 - self.decay) * tf.matmul(
            one_hot, flat, transpose_a=True)
        first = self.initialized <= 0
        dead = tf.logical_or(count < self.dead_threshold, first)
        dead_rows = dead[:, tf.newaxis]
        self.ema_count.assign(tf.where(dead, 1.0, count))
        self.ema_sum.assign(tf.where(dead_rows, random_rows, sums))
        self.codebook.assign(tf.where(dead_rows, random_rows, sums / smoothed[:, tf.newaxis]))
        self.initialized.assign(1.0)
        return tf.reduce_sum(tf.cast(dead, tf.int32))

    def _random_rows(self, flat, seed):
        """``codebook_size`` random rows of ``flat``, with noise of std ``0.01 / sqrt(D)``
        (Jukebox) so that repeats of a small batch differ."""
        picks = tf.random.stateless_uniform([self.codebook_size], seed, 0, tf.shape(flat)[0],
                                            dtype=tf.int32)
        noise = tf.random.stateless_normal([self.codebook_size, self.code_dim],
                                           seed + 1, stddev=0.01 / self.code_dim ** 0.5)
        return tf.gather(flat, picks) + noise

    def get_config(self):
        config = super().get_config()
        config.pop("dtype", None)
        config.update(codebook_size=self.codebook_size, code_dim=self.code_dim,
                      decay=self.decay, epsilon=self.epsilon, commitment=self.commitment,
                      dead_threshold=self.dead_threshold)
        return config


def code_usage(codes, codebook_size: int) -> dict:
    """Perplexity ``exp(H(mean one-hot))`` and share of codes used (float32 scalars)."""
    one_hot = tf.one_hot(tf.reshape(codes, [-1]), codebook_size)
    probabilities = tf.reduce_mean(one_hot, 0)
    entropy = -tf.reduce_sum(probabilities * tf.math.log(probabilities + 1e-10))
    used = tf.reduce_mean(tf.cast(probabilities > 0, tf.float32))
    return {"code_perplexity": tf.exp(entropy), "code_usage": used}
