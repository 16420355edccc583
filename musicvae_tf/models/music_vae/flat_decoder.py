"""The flat MusicVAE decoder: one LSTM stack over the whole sequence, conditioned on z."""

from __future__ import annotations

import keras
import tensorflow as tf

from musicvae_tf.layers.autoregressive import DecoderCore, decode_autoregressively
from musicvae_tf.layers.lstm_stack import LSTMStack
from musicvae_tf.models.music_vae.decoder import Decoder, shift_right, split_states, with_controls


@keras.saving.register_keras_serializable(package="musicvae_tf")
class FlatDecoder(Decoder):
    """z -> logits ``[B, T, sum(output_splits)]`` (SPEC §3).

    z reaches the decoder twice: every layer's initial ``h`` and ``c`` come from one
    ``tanh(Dense(z))``, and z is concatenated to every input step. The first input is zeros;
    under teacher forcing the input at step t is the target at t - 1 (all splits' one-hots) and
    the controls of step t, when there are any. With several ``output_splits`` one projection
    gives every split's logits (Magenta's ``MultiOutCategoricalLstmDecoder``). The logits Dense is
    float32.
    """

    def __init__(self, units, latent_dim, num_classes, num_steps, lstm_impl="auto",
                 output_splits=None, control_depth=0, **kwargs):
        super().__init__(units, latent_dim, num_classes, lstm_impl, output_splits, control_depth,
                         **kwargs)
        self.num_steps = int(num_steps)
        self.lstm = LSTMStack(self.units, input_dim=self.num_classes + self.control_depth,
                              conditioning_dim=self.latent_dim, impl=self.lstm_impl, name="lstm")
        self.initial_state_layer = keras.layers.Dense(2 * sum(self.units), activation="tanh",
                                                      name="initial_state")
        self.output_layer = keras.layers.Dense(self.num_classes, dtype="float32", name="logits")

    def build(self, input_shape=None):
        self.lstm.build()
        self.initial_state_layer.build((None, self.latent_dim))
        self.output_layer.build((None, self.units[-1]))
        self.built = True

    def initial_states(self, z):
        """Flat list ``[h_0, c_0, ...]`` of initial states from z."""
        return split_states(self.initial_state_layer(z), self.lstm.state_sizes())

    def call(self, z, targets_one_hot, controls=None, training=False):
        """Teacher-forced logits float32 ``[B, T, sum(output_splits)]``."""
        inputs = with_controls(shift_right(targets_one_hot), controls)
        outputs, _ = self.lstm(inputs, conditioning=z, initial_states=self.initial_states(z))
        return self.output_layer(tf.cast(outputs, "float32"))

    def decode_stepwise(self, z, targets=None, sampling_probability=1.0, temperature=1.0,
                        seed=None, controls=None):
        """Step-by-step decoding; see :func:`decode_autoregressively`. Returns (logits, tokens)."""
        states = [s[:, tf.newaxis] for s in self.initial_states(z)]
        core = DecoderCore(self.lstm, self.output_layer, states, self.output_splits)
        return decode_autoregressively(
            [core], z[:, tf.newaxis], 1, self.num_steps, controls=controls, targets=targets,
            sampling_probability=sampling_probability, temperature=temperature, seed=seed)

    def get_config(self):
        return {**super().get_config(), "num_steps": self.num_steps}
