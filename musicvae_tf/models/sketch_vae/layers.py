"""The SketchVAE's building blocks: a bidirectional GRU encoder to (mu, sigma) and the
hierarchical beat / step decoder."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="musicvae_tf")
class BiGRUEncoder(keras.layers.Layer):
    """``layers`` bidirectional GRUs (Keras defaults, so cuDNN-eligible) over ``[B, T, D]``; the
    final states of every layer and direction, concatenated, give ``mu`` and ``sigma``
    (softplus) of a ``latent_dim`` Gaussian."""

    def __init__(self, units: int, layers: int, latent_dim: int, dropout: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.units, self.num_layers, self.latent_dim, self.dropout = units, layers, latent_dim, dropout
        self.grus = [keras.layers.Bidirectional(
            keras.layers.GRU(units, return_sequences=True, return_state=True), name=f"bigru_{i}")
            for i in range(layers)]
        self.drop = keras.layers.Dropout(dropout)
        self.mu = keras.layers.Dense(latent_dim, name="mu")
        self.sigma = keras.layers.Dense(latent_dim, activation="softplus", name="sigma")
        self.supports_masking = True

    def call(self, inputs, mask=None, training=False):
        states, x = [], inputs
        for index, gru in enumerate(self.grus):
            x, forward, backward = gru(x, mask=mask, training=training)
            states += [forward, backward]
            if index + 1 < len(self.grus):
                x = self.drop(x, training=training)
        final = ops.concatenate(states, axis=-1)
        return self.mu(final), self.sigma(final) + 1e-4

    def compute_mask(self, inputs, mask=None):
        """The latents have no time axis, so no mask goes on."""
        return None

    def get_config(self):
        return {**super().get_config(), "units": self.units, "layers": self.num_layers,
                "latent_dim": self.latent_dim, "dropout": self.dropout}


@keras.saving.register_keras_serializable(package="musicvae_tf")
class BeatStepDecoder(keras.layers.Layer):
    """z -> a bar's token logits (no activation on the logits, unlike §B2's ReLU).

    A beat GRU (initial state from z, input a learned vector per beat) gives one output per beat;
    a step GRU, restarted each beat from that beat's output, reads per step the previous token
    (one-hot; zeros before the bar's first step, and the previous beat's last token carries over)
    and the beat output projected to ``units``."""

    def __init__(self, units: int, beats: int, steps_per_bar: int, num_classes: int, **kwargs):
        super().__init__(**kwargs)
        self.units, self.beats, self.steps_per_bar, self.num_classes = (
            units, beats, steps_per_bar, num_classes)
        self.steps_per_beat = steps_per_bar // beats
        self.beat_init = keras.layers.Dense(units, activation="tanh", name="beat_init")
        self.beat_gru = keras.layers.GRU(units, return_sequences=True, name="beat_gru")
        self.step_init = keras.layers.Dense(units, activation="tanh", name="step_init")
        self.beat_context = keras.layers.Dense(units, activation="selu", name="beat_context")
        self.step_gru = keras.layers.GRU(units, return_sequences=True, return_state=True,
                                         name="step_gru")
        self.output_layer = keras.layers.Dense(num_classes, name="logits")

    def build(self, input_shape):
        self.beat_inputs = self.add_weight(shape=(self.beats, 8), initializer="random_normal",
                                           name="beat_inputs")
        super().build(input_shape)

    def beat_outputs(self, z, training=False):
        """``(beat outputs [B, K, H], their step-level context [B, K, H])``."""
        inputs = ops.broadcast_to(self.beat_inputs[None], (ops.shape(z)[0], self.beats, 8))
        beats = self.beat_gru(inputs, initial_state=self.beat_init(z), training=training)
        return beats, self.beat_context(beats)

    def call(self, z, tokens, training=False):
        """Teacher-forced logits ``[B, S, C]`` of token bars ``tokens [B, S]``."""
        batch = ops.shape(z)[0]
        beats, context = self.beat_outputs(z, training)
        one_hot = ops.one_hot(ops.cast(tokens, "int32"), self.num_classes)
        previous = ops.pad(one_hot[:, :-1], [[0, 0], [1, 0], [0, 0]])
        previous = ops.reshape(previous, (batch * self.beats, self.steps_per_beat, self.num_classes))
        context = ops.repeat(ops.reshape(context, (batch * self.beats, 1, self.units)),
                             self.steps_per_beat, axis=1)
        initial = ops.reshape(self.step_init(beats), (batch * self.beats, self.units))
        outputs, _ = self.step_gru(ops.concatenate([previous, context], axis=-1),
                                   initial_state=initial, training=training)
        return self.output_layer(ops.reshape(outputs, (batch, self.steps_per_bar, self.units)))

    def step(self, previous, context, state):
        """One free-running step: ``(logits [B, C], new state)``."""
        outputs, state = self.step_gru(ops.concatenate([previous, context], axis=-1)[:, None],
                                       initial_state=state)
        return self.output_layer(outputs[:, 0]), state

    def get_config(self):
        return {**super().get_config(), "units": self.units, "beats": self.beats,
                "steps_per_bar": self.steps_per_bar, "num_classes": self.num_classes}
