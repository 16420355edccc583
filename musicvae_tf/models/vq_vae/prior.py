"""The prior over bar codes: a masked Transformer over the ``U * G`` codes of a window.

Why a bidirectional (masked) Transformer and not a causal LSTM or Transformer: inpainting must
read the bars after the gap as well as those before it, and one masked model does both jobs. It
is trained on two kinds of masks (see ``PriorSection``): whole-bar gaps with part of their start
revealed, and every code from a random position on. Sampling then walks the codes left to right,
each drawn given the codes before it with all later ones masked (an exact autoregressive
factorisation, the second kind of mask); filling a gap walks the gap's codes left to right given
both sides and the codes already filled (the first kind). Attention sees every bar at once, which
an LSTM reading one direction cannot.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from musicvae_tf.layers.autoregressive import sample_from_logits


@keras.saving.register_keras_serializable(package="musicvae_tf")
class TransformerBlock(keras.layers.Layer):
    """Pre-norm self-attention and feed-forward block with residuals and dropout."""

    def __init__(self, d_model, heads, ffn, dropout=0.1, **kwargs):
        super().__init__(**kwargs)
        self.d_model, self.heads, self.ffn, self.dropout = int(d_model), int(heads), int(ffn), float(dropout)
        self.attention_norm = keras.layers.LayerNormalization(epsilon=1e-6, name="attention_norm")
        self.attention = keras.layers.MultiHeadAttention(self.heads, self.d_model // self.heads,
                                                         dropout=self.dropout, name="attention")
        self.ffn_norm = keras.layers.LayerNormalization(epsilon=1e-6, name="ffn_norm")
        self.ffn_in = keras.layers.Dense(self.ffn, activation="gelu", name="ffn_in")
        self.ffn_out = keras.layers.Dense(self.d_model, name="ffn_out")
        self.drop = keras.layers.Dropout(self.dropout)

    def build(self, input_shape=None):
        shape = (None, None, self.d_model)
        self.attention_norm.build(shape)
        self.attention.build(shape, shape)
        self.ffn_norm.build(shape)
        self.ffn_in.build(shape)
        self.ffn_out.build((None, None, self.ffn))
        self.built = True

    def call(self, x, training=False):
        h = self.attention_norm(x)
        x = x + self.drop(self.attention(h, h, training=training), training=training)
        h = self.ffn_out(self.ffn_in(self.ffn_norm(x)))
        return x + self.drop(h, training=training)

    def get_config(self):
        config = super().get_config()
        config.update(d_model=self.d_model, heads=self.heads, ffn=self.ffn, dropout=self.dropout)
        return config


@keras.saving.register_keras_serializable(package="musicvae_tf")
class CodePrior(keras.Model):
    """Codes int ``[B, U * G]`` (bar-major; ``mask_token`` = ``codebook_size`` where unknown) ->
    logits float32 ``[B, U * G, codebook_size]``. Learned code, bar and group embeddings."""

    def __init__(self, codebook_size, num_bars, num_groups, layers=6, d_model=512, heads=8,
                 ffn=2048, dropout=0.1, **kwargs):
        super().__init__(**kwargs)
        self.codebook_size, self.num_bars, self.num_groups = int(codebook_size), int(num_bars), int(num_groups)
        self.num_layers, self.d_model, self.heads = int(layers), int(d_model), int(heads)
        self.ffn, self.dropout = int(ffn), float(dropout)
        self.length = self.num_bars * self.num_groups
        self.code_embedding = keras.layers.Embedding(self.codebook_size + 1, self.d_model,
                                                     name="code_embedding")
        self.bar_embedding = keras.layers.Embedding(self.num_bars, self.d_model, name="bar_embedding")
        self.group_embedding = keras.layers.Embedding(self.num_groups, self.d_model,
                                                      name="group_embedding")
        self.blocks = [TransformerBlock(self.d_model, self.heads, self.ffn, self.dropout,
                                        name=f"block_{i}") for i in range(self.num_layers)]
        self.final_norm = keras.layers.LayerNormalization(epsilon=1e-6, name="final_norm")
        self.output_layer = keras.layers.Dense(self.codebook_size, dtype="float32", name="logits")
        self._forward = tf.function(lambda codes: self(codes, training=False), reduce_retracing=True)

    @property
    def mask_token(self) -> int:
        """The input index of an unknown code."""
        return self.codebook_size

    def build(self, input_shape=None):
        for embedding in (self.code_embedding, self.bar_embedding, self.group_embedding):
            embedding.build((None,))
        for block in self.blocks:
            block.build()
        self.final_norm.build((None, None, self.d_model))
        self.output_layer.build((None, None, self.d_model))
        self.built = True

    def call(self, codes, training=False):
        positions = tf.range(self.length)
        x = (self.code_embedding(codes)
             + self.bar_embedding(positions // self.num_groups)[tf.newaxis]
             + self.group_embedding(positions % self.num_groups)[tf.newaxis])
        for block in self.blocks:
            x = block(x, training=training)
        return self.output_layer(self.final_norm(x))

    def fill(self, codes, mask, temperature: float = 1.0, seed: int = 0) -> np.ndarray:
        """``codes [B, U * G]`` with every position where ``mask`` is true drawn left to right,
        each given all unmasked and already drawn codes (temperature 0: argmax). Seeded."""
        current = np.where(mask, self.mask_token, np.asarray(codes)).astype(np.int32)
        mask = np.asarray(mask, bool)
        for position in np.flatnonzero(mask.any(axis=0)):
            logits = self._forward(tf.constant(current))[:, position]
            drawn = sample_from_logits(logits, float(temperature),
                                       tf.constant([int(seed) % (2**31 - 1), int(position)], tf.int32))
            current[:, position] = np.where(mask[:, position], drawn.numpy(), current[:, position])
        return current

    def sample(self, n: int, temperature: float = 1.0, seed: int = 0) -> np.ndarray:
        """``n`` code sequences int32 ``[n, U, G]`` drawn from the prior."""
        empty = np.zeros((n, self.length), np.int32)
        return self.fill(empty, np.ones_like(empty, bool), temperature, seed).reshape(
            n, self.num_bars, self.num_groups)

    def get_config(self):
        config = super().get_config()
        config.update(codebook_size=self.codebook_size, num_bars=self.num_bars,
                      num_groups=self.num_groups, layers=self.num_layers, d_model=self.d_model,
                      heads=self.heads, ffn=self.ffn, dropout=self.dropout)
        return config


def training_masks(batch, num_bars: int, num_groups: int, settings, seed):
    """Bool ``[batch, U * G]`` masks of the two kinds of ``PriorSection`` (stateless ``seed``)."""
    length = num_bars * num_groups
    draws = tf.random.stateless_uniform([batch, 6], seed)
    spans = settings.max_gap - settings.min_gap + 1
    gap = settings.min_gap + tf.cast(draws[:, 0] * spans, tf.int32)
    start = 1 + tf.cast(draws[:, 1] * tf.cast(num_bars - 1 - gap, tf.float32), tf.int32)
    revealed = tf.cast(draws[:, 2] * tf.cast(gap * num_groups, tf.float32), tf.int32)
    revealed = tf.where(draws[:, 3] < 0.5, revealed, 0)
    is_gap = draws[:, 5] < settings.gap_probability
    low = tf.where(is_gap, start * num_groups + revealed,
                   tf.cast(draws[:, 4] * length, tf.int32))
    high = tf.where(is_gap, (start + gap) * num_groups, length)
    positions = tf.range(length)[tf.newaxis]
    return (positions >= low[:, tf.newaxis]) & (positions < high[:, tf.newaxis])


def build_prior(config) -> CodePrior:
    """A built :class:`CodePrior` for a vq_vae config."""
    from musicvae_tf.models.vq_vae.config import prior_settings, vq_settings

    vq, prior = vq_settings(config), prior_settings(config)
    model = CodePrior(vq.codebook_size, config.data.num_bars, vq.num_groups, prior.layers,
                      prior.d_model, prior.heads, prior.ffn, prior.dropout, name="code_prior")
    model.build()
    return model
