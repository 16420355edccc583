"""SketchInpainter (stage 1): latents of the missing bars from the context bars' latents."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="musicvae_tf")
class SketchInpainter(keras.layers.Layer):
    """A GRU reads the past latents forwards, another the future latents backwards; their final
    states start a UNIDIRECTIONAL generation GRU that emits the gap's latents one bar at a time,
    each step reading the latent it emitted before (the last past latent first).

    It always runs free (its own outputs fed back), in training too: there is no teacher forcing,
    so unlike §B3's bidirectional generation GRU nothing after a step can leak into it, and
    training sees the same inputs as inference. One network covers [z_pitch, z_rhythm] jointly."""

    def __init__(self, latent_dim: int, context_units: int, generation_units: int, **kwargs):
        super().__init__(**kwargs)
        self.latent_dim, self.context_units, self.generation_units = (
            latent_dim, context_units, generation_units)
        self.past_gru = keras.layers.GRU(context_units, name="past_gru")
        self.future_gru = keras.layers.GRU(context_units, go_backwards=True, name="future_gru")
        self.initial = keras.layers.Dense(generation_units, activation="tanh", name="initial")
        self.generation_gru = keras.layers.GRU(generation_units, return_sequences=True,
                                               return_state=True, name="generation_gru")
        self.output_layer = keras.layers.Dense(latent_dim, name="latent")

    def call(self, past, future, gap: int, training=False):
        """Gap latents ``[B, gap, Z]`` from past ``[B, P, Z]`` and future ``[B, F, Z]``."""
        state = self.initial(ops.concatenate([self.past_gru(past, training=training),
                                              self.future_gru(future, training=training)], -1))
        previous, outputs = past[:, -1], []
        for _ in range(int(gap)):
            hidden, state = self.generation_gru(previous[:, None], initial_state=state,
                                                training=training)
            previous = self.output_layer(hidden[:, 0])
            outputs.append(previous)
        return ops.stack(outputs, axis=1)

    def build_from_config(self, config):
        """Built by the first call (``SketchNet.build``), not from recorded shapes."""

    def get_config(self):
        return {**super().get_config(), "latent_dim": self.latent_dim,
                "context_units": self.context_units, "generation_units": self.generation_units}
