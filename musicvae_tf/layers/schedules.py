"""Training schedules (SPEC §4): KL weight, learning rate, scheduled-sampling probability."""

from __future__ import annotations

import keras
import tensorflow as tf


def _float64(value):
    """Python numbers straight to float64 (casting them via a float32 tensor loses digits)."""
    if isinstance(value, (int, float)):
        return tf.constant(value, tf.float64)
    return tf.cast(value, tf.float64)


def beta_at(step, max_beta, beta_rate):
    """KL weight ``max_beta * (1 - beta_rate ** step)``; ``beta_rate`` 0 means constant max_beta."""
    if isinstance(beta_rate, (int, float)) and beta_rate == 0:
        return tf.constant(float(max_beta), tf.float32)
    # float64: 0.99999 ** step loses ~1e-3 relative accuracy in float32 after 1e5 steps.
    step = tf.cast(step, tf.float64)
    beta = max_beta * (1.0 - tf.pow(_float64(beta_rate), step))
    return tf.cast(beta, tf.float32)


@keras.saving.register_keras_serializable(package="musicvae_tf")
class LearningRateDecay(keras.optimizers.schedules.LearningRateSchedule):
    """``lr(step) = (initial - minimum) * decay_rate ** step + minimum``."""

    def __init__(self, initial_learning_rate=1e-3, minimum_learning_rate=1e-5, decay_rate=0.9999):
        self.initial_learning_rate = float(initial_learning_rate)
        self.minimum_learning_rate = float(minimum_learning_rate)
        self.decay_rate = float(decay_rate)

    def __call__(self, step):
        step = tf.cast(step, tf.float64)  # float64 for the same reason as in beta_at
        span = self.initial_learning_rate - self.minimum_learning_rate
        rate = span * tf.pow(tf.constant(self.decay_rate, tf.float64), step)
        return tf.cast(rate + self.minimum_learning_rate, tf.float32)

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
    k = _float64(rate)
    ratio = tf.minimum(tf.cast(step, tf.float64) / k, 700.0)  # exp overflows float64 past ~709
    return tf.cast(1.0 - k / (k + tf.exp(ratio)), tf.float32)
