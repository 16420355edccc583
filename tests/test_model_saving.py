"""Model construction: .keras round trip, full-size parameter counts, mixed precision."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from musicvae_tf.config import load_config
from musicvae_tf.models.music_vae.model import MusicVAE, build_model
from model_support import random_tokens, tiny_model


@pytest.mark.parametrize("hierarchical", [False, True])
def test_keras_file_round_trip_gives_identical_outputs(tmp_path, hierarchical):
    config, model = tiny_model(hierarchical)
    one_hot = tf.one_hot(random_tokens(config), config.data.num_classes)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded, MusicVAE)
    assert loaded.get_config() == model.get_config()
    for key in ("logits", "mu", "sigma"):
        np.testing.assert_array_equal(loaded(one_hot)[key].numpy(), model(one_hot)[key].numpy())
    z = model.encode(one_hot)[0]
    np.testing.assert_array_equal(loaded.sample_tokens(z, 1.0, seed=5).numpy(),
                                  model.sample_tokens(z, 1.0, seed=5).numpy())


def _lstm_params(input_dim, units):
    return 4 * units * (input_dim + units + 1)


def _expected_parameters(config):
    """Parameter count implied by SPEC §3 (Keras-layout LSTMs, Dense layers with biases)."""
    m, classes = config.model, config.data.num_classes
    total, in_dim = 0, classes
    for units in m.encoder_units:
        total += 2 * _lstm_params(in_dim, units)
        in_dim = 2 * units
    total += 2 * (in_dim * m.latent_dim + m.latent_dim)  # mu, sigma
    conditioning = m.latent_dim
    if m.decoder == "hierarchical":
        total += m.latent_dim * 2 * sum(m.conductor_units) + 2 * sum(m.conductor_units)
        in_dim = 1  # the conductor's constant zero input
        for units in m.conductor_units:
            total += _lstm_params(in_dim, units)
            in_dim = units
        conditioning = m.conductor_units[-1]
    total += conditioning * 2 * sum(m.decoder_units) + 2 * sum(m.decoder_units)
    in_dim = classes + conditioning
    for units in m.decoder_units:
        total += _lstm_params(in_dim, units)
        in_dim = units
    return total + in_dim * classes + classes


# SPEC §5 approximate counts (Magenta); cat-mel_2bar_big has none there.
@pytest.mark.parametrize("name, magenta", [
    ("cat-mel_2bar_small", 4.4e6), ("cat-mel_2bar_big", None),
    ("hierdec-mel_16bar", 176e6), ("flat-mel_16bar", 235e6)])
def test_full_size_parameter_counts(name, magenta):
    config = load_config(name)
    model = build_model(config)
    count = model.count_params()
    assert count == _expected_parameters(config)
    if magenta is not None:
        assert math.isclose(count, magenta, rel_tol=0.03), count


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision_keeps_logits_and_posterior_float32(policy):
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        config, model = tiny_model(True)
    finally:
        keras.config.set_dtype_policy(previous)
    assert model.decoder.lstm.compute_dtype == policy.split("_")[1]
    assert all(v.dtype == "float32" for v in model.trainable_variables)
    one_hot = tf.one_hot(random_tokens(config), config.data.num_classes)
    out = model(one_hot, training=True, seed=0)
    for key in ("logits", "mu", "sigma", "z"):
        assert out[key].dtype == tf.float32
    assert np.isfinite(out["logits"].numpy()).all()
    assert model.sample_tokens(out["mu"], 0.5, seed=1).dtype == tf.int32
