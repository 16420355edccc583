"""The latent RNN of InpaintNet (SPEC §7): bar latents of the context in, one latent per missing bar out.

A past-context and a future-context encoder (stacked bidirectional GRUs) read the latents of the
known bars. Their final states, layer by layer and direction by direction, are concatenated
(past ++ future) and become the initial states of a stacked bidirectional generation GRU with twice
the context units, which reads a learned constant input once per missing bar (the paper's
non-autoregressive variant) and projects each output to a latent.

Our variable split lengths are fixed-shape masked sequences (see ``gap.context_views``), so one
traced graph serves every split; masks are right-padded, which keeps cuDNN usable on GPU.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops


def _bidirectional_gru(units: int, return_state: bool, name: str) -> keras.layers.Bidirectional:
    return keras.layers.Bidirectional(
        keras.layers.GRU(units, return_sequences=True, return_state=return_state), name=name)


@keras.saving.register_keras_serializable(package="musicvae_tf")
class ContextEncoder(keras.layers.Layer):
    """Stacked bidirectional GRU over masked bar latents; returns every layer's final states.

    Output: a list ``[layer0_forward, layer0_backward, layer1_forward, ...]`` of ``[B, units]``.
    """

    def __init__(self, units: int, num_layers: int, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.num_layers = num_layers
        self.rnns = [_bidirectional_gru(units, True, f"bigru_{i}") for i in range(num_layers)]

    def build(self, input_shape):
        shape = tuple(input_shape)
        for rnn in self.rnns:
            rnn.build(shape)
            shape = shape[:-1] + (2 * self.units,)
        self.built = True

    def call(self, latents, mask=None, training=False):
        states = []
        sequence = latents
        for rnn in self.rnns:
            sequence, forward, backward = rnn(sequence, mask=mask, training=training)
            states += [forward, backward]
        return states

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "units": self.units, "num_layers": self.num_layers}


@keras.saving.register_keras_serializable(package="musicvae_tf")
class LatentRNN(keras.Model):
    """Context bar latents -> one latent per gap slot (InpaintNet's latent RNN, non-autoregressive).

    Call with the dict of ``gap.context_views``: ``past``/``future`` [B, U, Z] with masks [B, U] and
    ``gap_mask`` [B, G]; returns ``[B, G, Z]`` (slots outside ``gap_mask`` are meaningless).
    """

    def __init__(self, latent_dim: int, context_units: int, context_layers: int, **kwargs):
        super().__init__(**kwargs)
        self.latent_dim = latent_dim
        self.context_units = context_units
        self.context_layers = context_layers
        self.past_encoder = ContextEncoder(context_units, context_layers, name="past_context")
        self.future_encoder = ContextEncoder(context_units, context_layers, name="future_context")
        self.generation = [_bidirectional_gru(2 * context_units, False, f"generation_{i}")
                           for i in range(context_layers)]
        self.to_latent = keras.layers.Dense(latent_dim, name="to_latent")

    def build(self, input_shape=None):
        context_shape = (None, None, self.latent_dim)
        self.past_encoder.build(context_shape)
        self.future_encoder.build(context_shape)
        self.start_input = self.add_weight(name="start_input", shape=(self.latent_dim,),
                                           initializer="zeros")
        shape = context_shape
        for rnn in self.generation:
            rnn.build(shape)
            shape = (None, None, 4 * self.context_units)
        self.to_latent.build(shape)
        self.built = True

    def call(self, views, training=False):
        past_states = self.past_encoder(views["past"], mask=views["past_mask"], training=training)
        future_states = self.future_encoder(views["future"], mask=views["future_mask"], training=training)
        gap_mask = views["gap_mask"]
        batch, slots = ops.shape(gap_mask)[0], ops.shape(gap_mask)[1]
        sequence = ops.broadcast_to(ops.cast(self.start_input, self.compute_dtype),
                                    (batch, slots, self.latent_dim))
        for i, rnn in enumerate(self.generation):
            initial = [ops.concatenate([past_states[2 * i + d], future_states[2 * i + d]], axis=-1)
                       for d in (0, 1)]
            sequence = rnn(sequence, initial_state=initial, mask=gap_mask, training=training)
        return ops.cast(self.to_latent(sequence), "float32")

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "latent_dim": self.latent_dim,
                "context_units": self.context_units, "context_layers": self.context_layers}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
