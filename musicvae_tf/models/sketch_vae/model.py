"""The SketchVAE (SPEC_MODELS §B2 with §B5's fixes): per bar, z = [z_pitch, z_rhythm].

The pitch encoder reads the bar's onset pitches in order (embedding + bidirectional GRUs; a
start marker, token 1 which is never an onset, comes first so that an empty bar is a one-step
sequence and needs no fake note); the rhythm encoder reads the rhythm row one-hot
(``factorise``). Encoding for evaluation and for SketchNet is the posterior mean; training
samples z (the task's reparameterisation).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from data_pipelines.tokens import FIRST_PITCH_TOKEN
from musicvae_tf.models.sketch_vae import factorise
from musicvae_tf.models.sketch_vae.layers import BeatStepDecoder, BiGRUEncoder

START_MARKER = 1


@keras.saving.register_keras_serializable(package="musicvae_tf")
class SketchVAE(keras.Model):
    """Bars of melody tokens ``[B, S]`` to pitch and rhythm latents and back."""

    def __init__(self, num_classes: int, steps_per_bar: int = 16, units: int = 1024,
                 encoder_layers: int = 2, pitch_embedding: int = 10, pitch_latent: int = 128,
                 rhythm_latent: int = 128, beats: int = 4, dropout: float = 0.2, **kwargs):
        super().__init__(**kwargs)
        self.num_classes, self.steps_per_bar, self.units = num_classes, steps_per_bar, units
        self.encoder_layers, self.pitch_embedding, self.beats = encoder_layers, pitch_embedding, beats
        self.pitch_latent, self.rhythm_latent, self.dropout = pitch_latent, rhythm_latent, dropout
        self.embedding = keras.layers.Embedding(num_classes, pitch_embedding, mask_zero=True,
                                                name="pitch_embedding")
        self.pitch_encoder = BiGRUEncoder(units, encoder_layers, pitch_latent, dropout,
                                          name="pitch_encoder")
        self.rhythm_encoder = BiGRUEncoder(units, encoder_layers, rhythm_latent, dropout,
                                           name="rhythm_encoder")
        self.decoder = BeatStepDecoder(units, beats, steps_per_bar, num_classes, name="decoder")

    def build(self, input_shape=None):
        self.call(np.zeros((1, self.steps_per_bar), np.int32))
        self.built = True

    def get_build_config(self):
        # Non-empty, so that loading builds the model (creating its variables) before the weights.
        return {"built": True}

    def build_from_config(self, config):
        self.build()

    @property
    def latent_dim(self) -> int:
        """Size of one bar's z = [z_pitch, z_rhythm]."""
        return self.pitch_latent + self.rhythm_latent

    def encode_pitches(self, pitches, training=False):
        """``(mu, sigma)`` of pitch rows ``[B, S]`` (onset tokens in order, 0-padded)."""
        pitches = ops.cast(pitches, "int32")
        marker = ops.full((ops.shape(pitches)[0], 1), START_MARKER, "int32")
        sequence = ops.concatenate([marker, pitches], axis=1)
        return self.pitch_encoder(self.embedding(sequence), mask=sequence != factorise.PAD,
                                  training=training)

    def encode_rhythm(self, rhythm, training=False):
        """``(mu, sigma)`` of rhythm rows ``[B, S]`` (``factorise`` classes)."""
        one_hot = ops.one_hot(ops.cast(rhythm, "int32"), factorise.NUM_RHYTHM_CLASSES)
        return self.rhythm_encoder(one_hot, training=training)

    def encode(self, bars, training=False):
        """``(mu_pitch, sigma_pitch, mu_rhythm, sigma_rhythm)`` of token bars ``[B, S]``."""
        pitches, _ = factorise.pitch_row(bars)
        return (*self.encode_pitches(pitches, training),
                *self.encode_rhythm(factorise.rhythm_row(bars), training))

    def latents(self, bars):
        """Deterministic z ``[B, Zp + Zr]`` (posterior means) of token bars ``[B, S]``."""
        mu_pitch, _, mu_rhythm, _ = self.encode(bars)
        return ops.concatenate([mu_pitch, mu_rhythm], axis=-1)

    def decode_logits(self, z, bars, training=False):
        """Teacher-forced logits ``[B, S, C]`` of the true bars under z ``[B, Z]``."""
        return self.decoder(z, bars, training=training)

    def call(self, bars, training=False):
        """Logits of the bars decoded from their own posterior means."""
        return self.decode_logits(self.latents(bars), bars, training=training)

    def sample_tokens(self, z, temperature: float = 0.0, seed: int | None = None,
                      rhythm=None, pitches=None) -> np.ndarray:
        """Free-running token bars int32 ``[B, S]`` (greedy at temperature 0).

        ``rhythm`` (int ``[B, S]``, -1 for a free step) forces each step's rhythm class;
        ``pitches`` (int ``[B, S]`` onset tokens in order, padding -1; a row of all -1 is free)
        forces the k-th onset to be the k-th pitch, allows no onset after the last one and, where
        the rhythm is free, makes every given pitch sound."""
        import tensorflow as tf

        z = tf.cast(z, tf.float32)  # z may be a bfloat16 mean of a mixed-precision model
        batch = int(z.shape[0])
        generator = tf.random.Generator.from_seed(0 if seed is None else int(seed))
        beats, context = self.decoder.beat_outputs(z)
        initial = self.decoder.step_init(beats)
        rhythm = None if rhythm is None else np.asarray(rhythm)
        pitches = None if pitches is None else np.asarray(pitches)
        previous = tf.zeros((batch, self.num_classes))
        onsets = np.zeros(batch, np.int64)
        tokens = np.zeros((batch, self.steps_per_bar), np.int32)
        per_beat = self.steps_per_bar // self.beats
        for step in range(self.steps_per_bar):
            beat = step // per_beat
            if step % per_beat == 0:
                state = initial[:, beat]
            logits, state = self.decoder.step(previous, context[:, beat], state)
            logits = np.asarray(tf.cast(logits, tf.float32))
            allowed = _allowed_tokens(batch, self.num_classes, step, self.steps_per_bar, onsets,
                                      rhythm, pitches)
            logits = np.where(allowed, logits, -1e9)
            if temperature > 0:
                draw = generator.uniform(logits.shape, 1e-9, 1.0).numpy()
                token = np.argmax(logits / temperature - np.log(-np.log(draw)), axis=-1)
            else:
                token = np.argmax(logits, axis=-1)
            tokens[:, step] = token
            onsets += token >= FIRST_PITCH_TOKEN
            previous = tf.one_hot(token, self.num_classes)
        return tokens

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes,
                "steps_per_bar": self.steps_per_bar, "units": self.units,
                "encoder_layers": self.encoder_layers, "pitch_embedding": self.pitch_embedding,
                "pitch_latent": self.pitch_latent, "rhythm_latent": self.rhythm_latent,
                "beats": self.beats, "dropout": self.dropout}


def _allowed_tokens(batch, num_classes, step, steps, onsets, rhythm, pitches) -> np.ndarray:
    """Bool ``[B, C]``: the tokens a sketch allows at ``step`` of ``steps`` (all where there is
    none). A pitch sketch without a rhythm forces an onset once the pitches left need every
    step left, so all of them sound."""
    allowed = np.ones((batch, num_classes), bool)
    onset_tokens = np.arange(num_classes) >= FIRST_PITCH_TOKEN
    if rhythm is not None:
        wanted = rhythm[:, step]
        for row in np.flatnonzero(wanted >= 0):
            allowed[row] = onset_tokens if wanted[row] == factorise.ONSET else \
                np.arange(num_classes) == wanted[row]
    if pitches is not None:
        for row in np.flatnonzero(pitches[:, 0] >= 0):
            given = pitches[row][pitches[row] >= 0]
            wanted = given[onsets[row]] if onsets[row] < len(given) else -1
            allowed[row] &= ~onset_tokens | (np.arange(num_classes) == wanted)
            if len(given) - onsets[row] >= steps - step and (rhythm is None or rhythm[row, step] < 0):
                allowed[row] = np.arange(num_classes) == wanted
            if not allowed[row].any():
                allowed[row, factorise.HOLD] = True
    return allowed


def build_sketch_vae(config) -> SketchVAE:
    """A fresh SketchVAE with the sizes of ``config``'s ``sketch_vae`` section."""
    import dataclasses

    from musicvae_tf.models.sketch_vae.config import sketch_vae_settings

    settings = dataclasses.asdict(sketch_vae_settings(config))
    for key in ("beta", "free_bits"):
        settings.pop(key)
    model = SketchVAE(config.data.num_classes, config.data.steps_per_bar, name="sketch_vae",
                      **settings)
    model.build()
    return model
