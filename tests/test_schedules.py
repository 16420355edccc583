"""SPEC §4 schedules: KL weight, learning-rate decay, inverse-sigmoid sampling probability."""

import math

import keras
import numpy as np
import pytest

from musicvae_tf.layers.schedules import LearningRateDecay, beta_at, sampling_probability


def test_beta():
    assert float(beta_at(0, 0.2, 0.99999)) == 0.0
    np.testing.assert_allclose(float(beta_at(100_000, 0.2, 0.99999)),
                               0.2 * (1 - 0.99999 ** 100_000), rtol=1e-5)
    assert float(beta_at(0, 0.2, 0.0)) == pytest.approx(0.2)
    assert float(beta_at(5000, 0.2, 0.0)) == pytest.approx(0.2)


def test_learning_rate_decay_and_serialisation():
    schedule = LearningRateDecay(1e-3, 1e-5, 0.9999)
    assert float(schedule(0)) == pytest.approx(1e-3)
    assert float(schedule(10_000)) == pytest.approx((1e-3 - 1e-5) * 0.9999 ** 10_000 + 1e-5)
    assert float(schedule(10_000_000)) == pytest.approx(1e-5)
    restored = keras.optimizers.schedules.deserialize(
        keras.optimizers.schedules.serialize(schedule))
    assert float(restored(1234)) == pytest.approx(float(schedule(1234)))


def test_inverse_sigmoid_sampling_probability():
    assert sampling_probability(500, "none", 1000) == 0.0
    assert float(sampling_probability(0, "inverse_sigmoid", 1000)) == pytest.approx(1 - 1000 / 1001)
    crossing = 1000 * math.log(1000)  # ~6908 steps
    assert float(sampling_probability(crossing, "inverse_sigmoid", 1000)) == pytest.approx(0.5)
    assert float(sampling_probability(6000, "inverse_sigmoid", 1000)) < 0.5
    assert float(sampling_probability(8000, "inverse_sigmoid", 1000)) > 0.5
    assert float(sampling_probability(10**9, "inverse_sigmoid", 1000)) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        sampling_probability(1, "linear", 1000)
