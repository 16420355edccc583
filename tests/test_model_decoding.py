"""Decoder behaviour: shapes, parallel bars, stepped cell, seeded sampling, scheduled sampling."""

import numpy as np
import pytest
import tensorflow as tf

from musicvae_tf.models.music_vae.decoder import shift_right, split_states
from model_support import random_tokens, tiny_model


@pytest.mark.parametrize("hierarchical", [False, True])
def test_output_shapes_and_dtypes(hierarchical):
    config, model = tiny_model(hierarchical)
    tokens = random_tokens(config)
    out = model(tf.one_hot(tokens, config.data.num_classes), training=True, seed=1)
    steps, classes = config.data.num_steps, config.data.num_classes
    assert out["logits"].shape == (3, steps, classes) and out["logits"].dtype == tf.float32
    for key in ("mu", "sigma", "z"):
        assert out[key].shape == (3, config.model.latent_dim) and out[key].dtype == tf.float32
    assert (out["sigma"].numpy() > 0).all()
    assert not np.allclose(out["z"].numpy(), out["mu"].numpy())
    inference = model(tf.one_hot(tokens, classes), training=False)
    np.testing.assert_array_equal(inference["z"].numpy(), inference["mu"].numpy())


def test_parallel_bars_equal_bar_by_bar_decoding():
    config, model = tiny_model(True)
    decoder, classes = model.decoder, config.data.num_classes
    targets = tf.one_hot(random_tokens(config), classes)
    z = tf.random.stateless_normal([3, config.model.latent_dim], seed=[0, 1])
    parallel = decoder(z, targets).numpy()
    embeddings = decoder.bar_embeddings(z)
    inputs = shift_right(targets)
    spb = decoder.steps_per_bar
    bars = []
    for bar in range(decoder.num_bars):
        embedding = embeddings[:, bar]
        states = split_states(decoder.initial_state_layer(embedding), decoder.lstm.state_sizes())
        outputs, _ = decoder.lstm(inputs[:, bar * spb:(bar + 1) * spb], conditioning=embedding,
                                  initial_states=states)
        bars.append(decoder.output_layer(outputs).numpy())
    np.testing.assert_allclose(parallel, np.concatenate(bars, axis=1), atol=1e-5)


@pytest.mark.parametrize("hierarchical", [False, True])
def test_stepped_cell_reproduces_teacher_forced_logits(hierarchical):
    config, model = tiny_model(hierarchical)
    tokens = random_tokens(config)
    z = tf.random.stateless_normal([3, config.model.latent_dim], seed=[2, 3])
    teacher_forced = model.decode_logits(z, tf.one_hot(tokens, config.data.num_classes))
    stepped, _ = model.decoder.decode_stepwise(z, targets=tf.constant(tokens),
                                               sampling_probability=0.0)
    np.testing.assert_allclose(stepped.numpy(), teacher_forced.numpy(), atol=1e-5)


@pytest.mark.parametrize("hierarchical", [False, True])
def test_sampling_is_seeded_and_temperature_zero_is_argmax(hierarchical):
    config, model = tiny_model(hierarchical)
    z = tf.random.stateless_normal([4, config.model.latent_dim], seed=[4, 5]) * 3.0
    first = model.sample_tokens(z, temperature=1.0, seed=7).numpy()
    assert first.shape == (4, config.data.num_steps) and first.dtype == np.int32
    np.testing.assert_array_equal(first, model.sample_tokens(z, temperature=1.0, seed=7).numpy())
    assert not np.array_equal(first, model.sample_tokens(z, temperature=1.0, seed=8).numpy())
    logits, greedy = model.sample(z, temperature=0.0, seed=1)
    np.testing.assert_array_equal(greedy.numpy(), np.argmax(logits.numpy(), axis=-1))
    np.testing.assert_array_equal(greedy.numpy(), model.sample_tokens(z, 0.0, seed=2).numpy())
    # The sampled logits are the teacher-forced logits of the sampled sequence.
    forced = model.decode_logits(z, tf.one_hot(greedy, config.data.num_classes))
    np.testing.assert_allclose(forced.numpy(), logits.numpy(), atol=1e-5)


@pytest.mark.parametrize("hierarchical", [False, True])
def test_scheduled_sampling_extremes(hierarchical):
    config, model = tiny_model(hierarchical)
    tokens = random_tokens(config)
    one_hot = tf.one_hot(tokens, config.data.num_classes)
    z = tf.random.stateless_normal([3, config.model.latent_dim], seed=[6, 7])
    forced = model.decode_logits(z, one_hot).numpy()
    never = model.decode_logits(z, one_hot, sampling_probability=tf.constant(0.0), seed=3)
    np.testing.assert_allclose(never.numpy(), forced, atol=1e-5)
    always = model.decode_logits(z, one_hot, sampling_probability=1.0, seed=3).numpy()
    sampled_logits, _ = model.sample(z, temperature=1.0, seed=3)
    np.testing.assert_allclose(always, sampled_logits.numpy(), atol=1e-5)
    half = model.decode_logits(z, one_hot, sampling_probability=0.5, seed=3).numpy()
    assert not np.allclose(half, forced, atol=1e-4)
    np.testing.assert_allclose(half[:, 0], forced[:, 0], atol=1e-5)  # step 0 input is zeros


def test_scheduled_sampling_has_gradients():
    config, model = tiny_model(False)
    one_hot = tf.one_hot(random_tokens(config), config.data.num_classes)
    with tf.GradientTape() as tape:
        logits = model(one_hot, training=True, sampling_probability=tf.constant(0.5), seed=1)
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(one_hot, logits["logits"]))
    grads = tape.gradient(loss, model.trainable_variables)
    assert all(g is not None for g in grads)


def test_scheduled_sampling_keeps_dropped_tokens_as_zero_inputs():
    config, model = tiny_model(False)
    one_hot = tf.one_hot(random_tokens(config), config.data.num_classes)
    dropped = one_hot * tf.constant([1.0, 0.0] * (config.data.num_steps // 2))[:, tf.newaxis]
    z = tf.random.stateless_normal([3, config.model.latent_dim], seed=[1, 2])
    forced = model.decode_logits(z, dropped).numpy()
    # A probability this small never flips a coin: every input is the (dropped) target.
    scheduled = model.decode_logits(z, dropped, sampling_probability=1e-9, seed=5).numpy()
    np.testing.assert_allclose(scheduled, forced, atol=1e-5)
