"""The fused LSTM: hand-written gradient and Keras-compatible weight layout."""

import numpy as np
import pytest
import tensorflow as tf
import keras

from musicvae_tf.layers.lstm_core import lstm_cell_step, lstm_sequence
from musicvae_tf.layers.lstm_stack import LSTMStack


def _reference(projected, h0, c0, recurrent):
    """Plain per-step recurrence, differentiated by TensorFlow."""
    outputs, hs, cs = [], [], []
    for d in range(projected.shape[1]):
        h, c, steps = h0[d], c0[d], []
        for t in range(projected.shape[0]):
            h, c = lstm_cell_step(projected[t, d], h, c, recurrent[d])
            steps.append(h)
        outputs.append(tf.stack(steps))
        hs.append(h)
        cs.append(c)
    return tf.stack(outputs, 1), tf.stack(hs), tf.stack(cs)


@pytest.mark.parametrize("directions", [1, 2])
def test_custom_gradient_matches_autodiff(directions):
    rng = np.random.default_rng(0)
    steps, batch, units = 5, 3, 4
    args = [tf.constant(rng.normal(size=s), tf.float64) for s in [
        (steps, directions, batch, 4 * units), (directions, batch, units),
        (directions, batch, units), (directions, units, 4 * units)]]
    weights = tf.constant(rng.normal(size=(steps, directions, batch, units)), tf.float64)
    results = []
    for fn in (_reference, lstm_sequence):
        with tf.GradientTape() as tape:
            tape.watch(args)
            outputs, h, c = fn(*args)
            loss = tf.reduce_sum(outputs * weights) + tf.reduce_sum(h ** 2) + 1.5 * tf.reduce_sum(c)
        results.append([outputs, h, c] + tape.gradient(loss, args))
    for ours, reference in zip(results[1], results[0]):
        np.testing.assert_allclose(ours.numpy(), reference.numpy(), rtol=1e-9, atol=1e-12)


def test_gradient_when_only_final_state_is_used():
    rng = np.random.default_rng(1)
    args = [tf.constant(rng.normal(size=s), tf.float32) for s in [(4, 1, 2, 12), (1, 2, 3),
                                                                    (1, 2, 3), (1, 3, 12)]]
    with tf.GradientTape() as tape:
        tape.watch(args)
        _, h, _ = lstm_sequence(*args)
        loss = tf.reduce_sum(h)
    grads = tape.gradient(loss, args)
    assert all(g is not None and np.isfinite(g.numpy()).all() for g in grads)
    assert np.abs(grads[3].numpy()).sum() > 0


def test_weights_load_into_keras_lstm():
    """Same layout and gate order as keras.layers.LSTM: copying weights gives the same outputs."""
    stack = LSTMStack([6], input_dim=5)
    stack.build()
    x = tf.random.stateless_normal([2, 7, 5], seed=[1, 2])
    ours, (h, c) = stack(x)
    reference = keras.layers.LSTM(6, return_sequences=True, return_state=True)
    reference.build((None, 7, 5))
    reference.set_weights([w.numpy() for w in stack.cell_weights[0][0]])
    expected, expected_h, expected_c = reference(x)
    np.testing.assert_allclose(ours.numpy(), expected.numpy(), atol=1e-5)
    np.testing.assert_allclose(h.numpy(), expected_h.numpy(), atol=1e-5)
    np.testing.assert_allclose(c.numpy(), expected_c.numpy(), atol=1e-5)


def test_bidirectional_matches_two_keras_lstms():
    stack = LSTMStack([4], input_dim=3, bidirectional=True)
    stack.build()
    x = tf.random.stateless_normal([2, 6, 3], seed=[3, 4])
    outputs, states = stack(x)
    forward = keras.layers.LSTM(4, return_sequences=True)
    backward = keras.layers.LSTM(4, return_sequences=True, go_backwards=True)
    for layer, weights in zip((forward, backward), stack.cell_weights[0]):
        layer.build((None, 6, 3))
        layer.set_weights([w.numpy() for w in weights])
    expected = np.concatenate([forward(x).numpy(), backward(x).numpy()[:, ::-1]], axis=-1)
    np.testing.assert_allclose(outputs.numpy(), expected, atol=1e-5)
    np.testing.assert_allclose(states[2].numpy(), expected[:, 0, 4:], atol=1e-5)  # final bw h


def test_conditioning_equals_concatenated_inputs():
    stack = LSTMStack([5, 3], input_dim=4, conditioning_dim=2)
    stack.build()
    x = tf.random.stateless_normal([2, 6, 4], seed=[5, 6])
    cond = tf.random.stateless_normal([2, 2], seed=[7, 8])
    ours, _ = stack(x, conditioning=cond)
    plain = LSTMStack([5, 3], input_dim=6)
    plain.build()
    plain.set_weights(stack.get_weights())
    concatenated = tf.concat([x, tf.repeat(cond[:, None], 6, axis=1)], axis=-1)
    expected, _ = plain(concatenated)
    np.testing.assert_allclose(ours.numpy(), expected.numpy(), atol=1e-6)
