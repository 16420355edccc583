"""Training schedules (SPEC §4): KL weight, learning rate, scheduled-sampling probability."""

from __future__ import annotations

import keras
import tensorflow as tf


def beta_at(step, max_beta, beta_rate):
    """KL weight ``max_beta * (1 - beta_rate ** step)``; ``beta_rate`` 0 means constant max_beta."""
    step = tf.cast(step, tf.float32)
    if isinstance(beta_rate, (int, float)) and beta_rate == 0:
        return tf.constant(float(max_beta), tf.float32)
    return max_beta * (1.0 - tf.pow(tf.cast(beta_rate, tf.float32), step))


@keras.saving.register_keras_serializable(package="musicvae_tf")
class LearningRateDecay(keras.optimizers.schedules.LearningRateSchedule):
    """``lr(step) = (initial - minimum) * decay_rate ** step + minimum``."""

    def __init__(self, initial_learning_rate=1e-3, minimum_learning_rate=1e-5, decay_rate=0.9999):
        self.initial_learning_rate = float(initial_learning_rate)
        self.minimum_learning_rate = float(minimum_learning_rate)
        self.decay_rate = float(decay_rate)

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        span = self.initial_learning_rate - self.minimum_learning_rate
        return span * tf.pow(self.decay_rate, step) + self.minimum_learning_rate

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "minimum_learning_rate": self.minimum_learning_rate,
                "decay_rate": self.decay_rate}


def sampling_probability(step, schedule, rate):
    """Probability of feeding the model's own sample at training ``step``.

    ``schedule`` "none" gives 0.0 (a Python float, so the model stays on the teacher-forced
    path); "inverse_sigmoid" gives ``1 - k / (k + exp(step / k))`` with ``k = rate``.
    """
    if schedule == "none":
        return 0.0
    if schedule != "inverse_sigmoid":
        raise ValueError(f"unknown sampling schedule {schedule!r}")
    k = tf.cast(rate, tf.float32)
    ratio = tf.minimum(tf.cast(step, tf.float32) / k, 80.0)  # exp overflows float32 past ~88
    return 1.0 - k / (k + tf.exp(ratio))
