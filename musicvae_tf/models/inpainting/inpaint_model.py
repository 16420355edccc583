"""The trained inpainting system as one Keras model: a frozen measure VAE plus the latent RNN.

Saving both in one ``.keras`` file makes a latent-RNN run self-contained (``R/model.keras``); the
measure VAE stage also keeps its own run dir and ``model.keras``. The measure VAE never trains
here: it is marked non-trainable, so only the latent RNN's variables reach the optimiser, and the
loss gradient flows through the frozen decoder into the generated latents (SPEC §7).
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from musicvae_tf.models.inpainting.gap import context_views, gap_bars
from musicvae_tf.models.inpainting.latent_rnn import LatentRNN


@keras.saving.register_keras_serializable(package="musicvae_tf")
class InpaintingModel(keras.Model):
    """Bars of a window with a gap -> logits or sampled tokens for the gap bars.

    ``model(bars, gap_start=..., gap_length=...)``: ``bars`` one-hot ``[B, U, S, C]`` (the gap bars
    are read only as teacher-forcing targets), ``gap_start`` and ``gap_length`` int scalars.
    Gap outputs have ``max_gap`` slots; ``gap_mask`` marks the real ones.
    """

    def __init__(self, measure_vae, latent_rnn: LatentRNN, max_gap: int, **kwargs):
        super().__init__(**kwargs)
        self.measure_vae = measure_vae
        # A measure VAE deserialised with trainable=False has trainable sublayers, and setting False
        # again does not reach them on this Keras version; flipping the flag does.
        self.measure_vae.trainable = True
        self.measure_vae.trainable = False
        self.latent_rnn = latent_rnn
        self.max_gap = int(max_gap)

    def build(self, input_shape=None):
        if not self.measure_vae.built:
            self.measure_vae.build()
        if not self.latent_rnn.built:
            self.latent_rnn.build()
        self.built = True

    def get_build_config(self):
        return {}

    def build_from_config(self, config):
        self.build()

    def encode_bars(self, bars):
        """Posterior means of every bar: ``[B, U, S, C]`` -> ``[B, U, Z]``."""
        shape = ops.shape(bars)
        flat = ops.reshape(bars, (shape[0] * shape[1], shape[2], shape[3]))
        mu, _ = self.measure_vae.encode(flat, training=False)
        return ops.reshape(mu, (shape[0], shape[1], -1))

    def gap_latents(self, bar_latents, gap_start, gap_length, training=False):
        """Latent RNN output for the gap: ``[B, max_gap, Z]`` and the ``[B, max_gap]`` gap mask."""
        views = context_views(bar_latents, gap_start, gap_length, self.max_gap)
        return self.latent_rnn(views, training=training), views["gap_mask"]

    def decode_gap_logits(self, latents, target_bars):
        """Teacher-forced measure-decoder logits: latents ``[B, G, Z]``, targets ``[B, G, S, C]``."""
        shape = ops.shape(target_bars)
        flat_z = ops.reshape(latents, (shape[0] * shape[1], -1))
        flat_targets = ops.reshape(target_bars, (shape[0] * shape[1], shape[2], shape[3]))
        logits = self.measure_vae.decode_logits(flat_z, flat_targets, training=False)
        return ops.reshape(logits, (shape[0], shape[1], shape[2], shape[3]))

    def call(self, bars, gap_start=0, gap_length=1, training=False):
        latents, gap_mask = self.gap_latents(self.encode_bars(bars), gap_start, gap_length, training)
        logits = self.decode_gap_logits(latents, gap_bars(bars, gap_start, self.max_gap))
        return {"logits": logits, "gap_latents": latents, "gap_mask": gap_mask}

    def sample_gap_tokens(self, latents, temperature: float = 0.5, seed: int | None = None):
        """Decode gap latents ``[B, G, Z]`` bar by bar with the measure decoder -> int32 ``[B, G, S]``."""
        shape = ops.shape(latents)
        tokens = self.measure_vae.sample_tokens(ops.reshape(latents, (shape[0] * shape[1], shape[2])),
                                                temperature=temperature, seed=seed)
        return ops.reshape(tokens, (shape[0], shape[1], -1))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "max_gap": self.max_gap,
                "measure_vae": keras.saving.serialize_keras_object(self.measure_vae),
                "latent_rnn": keras.saving.serialize_keras_object(self.latent_rnn)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        measure_vae = keras.saving.deserialize_keras_object(config.pop("measure_vae"))
        latent_rnn = keras.saving.deserialize_keras_object(config.pop("latent_rnn"))
        return cls(measure_vae=measure_vae, latent_rnn=latent_rnn, **config)
