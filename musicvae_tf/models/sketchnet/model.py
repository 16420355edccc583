"""SketchNet as one Keras model: a frozen SketchVAE, the SketchInpainter and the SketchConnector.

Saving all three in one ``.keras`` file makes a sketchnet run self-contained (``RUN/model.keras``).
The SketchVAE is non-trainable here: the losses reach the inpainter and the connector through
its frozen decoder. Bar latents are the SketchVAE's posterior means (deterministic, §B5).

A sketch is given per missing bar and per half of z: ``sketch`` ``[B, G, Z]`` latents from the
SketchVAE's pitch or rhythm encoder and ``sketch_mask`` bool ``[B, G, Z]`` saying which dims are
given; they overwrite the connector's input and its output for those dims (§B3).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from musicvae_tf.models.sketchnet.connector import SketchConnector
from musicvae_tf.models.sketchnet.inpainter import SketchInpainter


@keras.saving.register_keras_serializable(package="musicvae_tf")
class SketchNet(keras.Model):
    """Token windows with a gap -> latents, logits or tokens of the gap bars."""

    def __init__(self, vae, inpainter: SketchInpainter, connector: SketchConnector, **kwargs):
        super().__init__(**kwargs)
        self.vae = vae
        # As InpaintingModel: flipping the flag reaches the sublayers of a deserialised model.
        self.vae.trainable = True
        self.vae.trainable = False
        self.inpainter = inpainter
        self.connector = connector

    def build(self, input_shape=None):
        steps = self.vae.steps_per_bar
        latents = self.bar_latents(np.zeros((1, 3, steps), np.int32))
        self.connector(self.with_gap(latents, 1, self.inpainter(latents[:, :1], latents[:, 2:], gap=1)))
        self.built = True

    def get_build_config(self):
        # Non-empty, so that loading builds the model (creating its variables) before the weights.
        return {"built": True}

    def build_from_config(self, config):
        self.build()

    @property
    def latent_dim(self) -> int:
        """Size of one bar's z."""
        return self.vae.latent_dim

    def bar_latents(self, bars):
        """Posterior means ``[B, U, Z]`` of token bars ``[B, U, S]``."""
        shape = ops.shape(bars)
        flat = ops.reshape(bars, (shape[0] * shape[1], shape[2]))
        return ops.reshape(ops.stop_gradient(self.vae.latents(flat)), (shape[0], shape[1], -1))

    @staticmethod
    def with_gap(latents, gap_start: int, gap_latents):
        """``latents`` with bars ``gap_start..`` replaced by ``gap_latents`` ``[B, G, Z]``."""
        gap = gap_latents.shape[1]
        return ops.concatenate([latents[:, :gap_start], ops.cast(gap_latents, latents.dtype),
                                latents[:, gap_start + gap:]], axis=1)

    def stage1_latents(self, latents, gap_start: int, gap: int, training=False):
        """The inpainter's gap latents ``[B, G, Z]``."""
        return self.inpainter(latents[:, :gap_start], latents[:, gap_start + gap:], gap=gap,
                              training=training)

    def gap_latents(self, latents, gap_start: int, gap: int, sketch=None, sketch_mask=None,
                    training=False, stage1=None):
        """Final gap latents ``[B, G, Z]``: inpainter, sketches in, connector, sketches again."""
        if stage1 is None:
            stage1 = self.stage1_latents(latents, gap_start, gap)
        if sketch is not None:
            stage1 = ops.where(sketch_mask, ops.cast(sketch, stage1.dtype), stage1)
        refined = self.connector(self.with_gap(latents, gap_start, stage1), training=training)
        refined = refined[:, gap_start:gap_start + gap]
        if sketch is not None:
            refined = ops.where(sketch_mask, ops.cast(sketch, refined.dtype), refined)
        return refined

    def decode_gap_logits(self, gap_latents, gap_bars):
        """Teacher-forced logits ``[B, G, S, C]`` of the true gap bars ``[B, G, S]``."""
        shape = ops.shape(gap_bars)
        logits = self.vae.decode_logits(ops.reshape(gap_latents, (shape[0] * shape[1], -1)),
                                        ops.reshape(gap_bars, (shape[0] * shape[1], shape[2])))
        return ops.reshape(logits, (shape[0], shape[1], shape[2], -1))

    def sample_gap_tokens(self, gap_latents, temperature: float = 0.0, seed: int | None = None,
                          rhythm=None, pitches=None) -> np.ndarray:
        """Tokens int32 ``[B, G, S]``; ``rhythm`` / ``pitches`` ``[B, G, S]`` (-1 = free) force
        the sketched bars' rhythm classes and onset pitches (``SketchVAE.sample_tokens``)."""
        batch, gap = int(gap_latents.shape[0]), int(gap_latents.shape[1])
        steps = self.vae.steps_per_bar

        def flat(values):
            return None if values is None else np.asarray(values).reshape(batch * gap, steps)

        tokens = self.vae.sample_tokens(ops.reshape(gap_latents, (batch * gap, -1)), temperature,
                                        seed, rhythm=flat(rhythm), pitches=flat(pitches))
        return tokens.reshape(batch, gap, steps)

    def call(self, bars, gap_start: int = 6, gap: int = 4, training=False):
        """Logits ``[B, G, S, C]`` of the gap bars of token bars ``[B, U, S]`` (no sketch)."""
        latents = self.bar_latents(bars)
        return self.decode_gap_logits(self.gap_latents(latents, gap_start, gap, training=training),
                                      bars[:, gap_start:gap_start + gap])

    def get_config(self):
        return {**super().get_config(), "vae": keras.saving.serialize_keras_object(self.vae),
                "inpainter": keras.saving.serialize_keras_object(self.inpainter),
                "connector": keras.saving.serialize_keras_object(self.connector)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        parts = {key: keras.saving.deserialize_keras_object(config.pop(key))
                 for key in ("vae", "inpainter", "connector")}
        return cls(**parts, **config)


def build_sketchnet(config, vae) -> SketchNet:
    """A fresh SketchNet around a trained SketchVAE, sized by ``config``'s ``sketchnet`` section."""
    from musicvae_tf.models.sketchnet.config import sketchnet_settings

    settings = sketchnet_settings(config)
    inpainter = SketchInpainter(vae.latent_dim, settings.context_units, settings.generation_units,
                                name="inpainter")
    connector = SketchConnector(vae.latent_dim, settings.d_model, settings.heads, settings.layers,
                                settings.ffn, settings.dropout, config.data.num_bars,
                                name="connector")
    model = SketchNet(vae, inpainter, connector, name="sketchnet")
    model.build()
    return model


def sketch_masks(batch: int, gap: int, pitch_latent: int, rhythm_latent: int, pitch_given,
                 rhythm_given):
    """Bool ``[B, G, Zp + Zr]`` from per-bar flags ``pitch_given`` / ``rhythm_given`` ``[B, G]``."""
    pitch = ops.repeat(ops.cast(pitch_given, "bool")[..., None], pitch_latent, axis=-1)
    rhythm = ops.repeat(ops.cast(rhythm_given, "bool")[..., None], rhythm_latent, axis=-1)
    return ops.reshape(ops.concatenate([pitch, rhythm], -1), (batch, gap, pitch_latent + rhythm_latent))
