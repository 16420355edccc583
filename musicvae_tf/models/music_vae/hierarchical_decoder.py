"""The hierarchical MusicVAE decoder: a conductor LSTM over bars, a bar decoder within bars."""

from __future__ import annotations

import keras
import tensorflow as tf

from musicvae_tf.layers.autoregressive import decode_autoregressively
from musicvae_tf.models.music_vae.flat_decoder import shift_right, split_states
from musicvae_tf.layers.lstm_stack import LSTMStack


@keras.saving.register_keras_serializable(package="musicvae_tf")
class HierarchicalDecoder(keras.layers.Layer):
    """z -> logits ``[B, U * S, C]`` for U bars of S steps (SPEC §3).

    The conductor starts from ``tanh(Dense(z))``, reads a constant zero input (one feature) at
    each of its U steps and its top output ``c_u`` embeds bar u. The bar decoder starts every bar
    from ``tanh(Dense(c_u))`` (one Dense shared by all bars), sees ``c_u`` concatenated to every
    input, and its first input in bar u is the last token of bar u - 1 (zeros for bar 0).

    Under teacher forcing all bars are decoded at once by folding them into the batch
    (``[B * U, S, ...]``), which is exact because a bar's inputs and initial state do not depend
    on the other bars' decoder states. Step-by-step decoding (sampling, and scheduled sampling
    during training) walks the bars in order, so bar u's first input is the token actually chosen
    at the last step of bar u - 1 (a sample or the ground truth, by the same per-step coin).
    """

    def __init__(self, conductor_units, units, latent_dim, num_classes, num_bars, steps_per_bar,
                 lstm_impl="auto", **kwargs):
        super().__init__(**kwargs)
        self.conductor_units = [int(u) for u in conductor_units]
        self.units = [int(u) for u in units]
        self.latent_dim = int(latent_dim)
        self.num_classes = int(num_classes)
        self.num_bars = int(num_bars)
        self.steps_per_bar = int(steps_per_bar)
        self.lstm_impl = str(lstm_impl)
        self.conductor = LSTMStack(self.conductor_units, input_dim=1, impl=self.lstm_impl,
                                   name="conductor")
        self.conductor_initial_state_layer = keras.layers.Dense(
            2 * sum(self.conductor_units), activation="tanh", name="conductor_initial_state")
        self.lstm = LSTMStack(self.units, input_dim=self.num_classes,
                              conditioning_dim=self.conductor_units[-1], impl=self.lstm_impl,
                              name="bar_lstm")
        self.initial_state_layer = keras.layers.Dense(2 * sum(self.units), activation="tanh",
                                                      name="bar_initial_state")
        self.output_layer = keras.layers.Dense(self.num_classes, dtype="float32", name="logits")

    def build(self, input_shape=None):
        self.conductor.build()
        self.conductor_initial_state_layer.build((None, self.latent_dim))
        self.lstm.build()
        self.initial_state_layer.build((None, self.conductor_units[-1]))
        self.output_layer.build((None, self.units[-1]))
        self.built = True

    def bar_embeddings(self, z):
        """Conductor outputs ``[B, U, H_conductor]``."""
        zeros = tf.zeros([tf.shape(z)[0], self.num_bars, 1], self.compute_dtype)
        states = split_states(self.conductor_initial_state_layer(z),
                              self.conductor.state_sizes())
        outputs, _ = self.conductor(zeros, initial_states=states)
        return tf.ensure_shape(outputs, [None, self.num_bars, self.conductor_units[-1]])

    def call(self, z, targets_one_hot, training=False):
        """Teacher-forced logits float32 ``[B, T, C]``, all bars in parallel."""
        embeddings = self.bar_embeddings(z)
        batch = tf.shape(z)[0]
        folded_embeddings = tf.reshape(embeddings, [-1, self.conductor_units[-1]])
        inputs = tf.reshape(shift_right(targets_one_hot),
                            [-1, self.steps_per_bar, self.num_classes])
        states = split_states(self.initial_state_layer(folded_embeddings),
                              self.lstm.state_sizes())
        outputs, _ = self.lstm(inputs, conditioning=folded_embeddings, initial_states=states)
        logits = self.output_layer(tf.cast(outputs, "float32"))
        return tf.reshape(logits, [batch, self.num_bars * self.steps_per_bar, self.num_classes])

    def decode_stepwise(self, z, targets=None, sampling_probability=1.0, temperature=1.0,
                        seed=None):
        """Step-by-step decoding over all bars in order. Returns (logits, tokens)."""
        embeddings = self.bar_embeddings(z)
        states = split_states(self.initial_state_layer(embeddings), self.lstm.state_sizes())
        return decode_autoregressively(
            self.lstm, self.output_layer, embeddings, states, self.num_bars, self.steps_per_bar,
            self.num_classes, targets=targets, sampling_probability=sampling_probability,
            temperature=temperature, seed=seed)

    def get_config(self):
        config = super().get_config()
        config.update(conductor_units=self.conductor_units, units=self.units,
                      latent_dim=self.latent_dim, num_classes=self.num_classes,
                      num_bars=self.num_bars, steps_per_bar=self.steps_per_bar,
                      lstm_impl=self.lstm_impl)
        return config
