"""SketchConnector (stage 2): a small Transformer encoder that refines all bar latents at once."""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops


def sinusoidal_positions(length: int, depth: int) -> np.ndarray:
    """Float32 ``[length, depth]`` sine/cosine position codes."""
    position = np.arange(length)[:, None]
    rate = np.exp(-math.log(10000.0) * (np.arange(0, depth, 2) / depth))
    codes = np.zeros((length, depth), np.float32)
    codes[:, 0::2] = np.sin(position * rate)
    codes[:, 1::2] = np.cos(position * rate)[:, :depth // 2]
    return codes


@keras.saving.register_keras_serializable(package="musicvae_tf")
class EncoderBlock(keras.layers.Layer):
    """Pre-LayerNorm self-attention and feed-forward, each with a residual and dropout."""

    def __init__(self, d_model: int, heads: int, ffn: int, dropout: float = 0.1, **kwargs):
        super().__init__(**kwargs)
        self.d_model, self.heads, self.ffn, self.dropout = d_model, heads, ffn, dropout
        self.norm_attention = keras.layers.LayerNormalization(epsilon=1e-6)
        self.attention = keras.layers.MultiHeadAttention(heads, d_model // heads, dropout=dropout)
        self.norm_ffn = keras.layers.LayerNormalization(epsilon=1e-6)
        self.hidden = keras.layers.Dense(ffn, activation="relu")
        self.project = keras.layers.Dense(d_model)
        self.drop = keras.layers.Dropout(dropout)

    def call(self, x, training=False):
        normed = self.norm_attention(x)
        x = x + self.drop(self.attention(normed, normed, training=training), training=training)
        return x + self.drop(self.project(self.hidden(self.norm_ffn(x))), training=training)

    def get_config(self):
        return {**super().get_config(), "d_model": self.d_model, "heads": self.heads,
                "ffn": self.ffn, "dropout": self.dropout}


@keras.saving.register_keras_serializable(package="musicvae_tf")
class SketchConnector(keras.layers.Layer):
    """Bar latents ``[B, U, Z]`` -> refined bar latents ``[B, U, Z]`` (§B3): a projection to
    ``d_model`` + positions + dropout, ``layers`` blocks, a final LayerNorm, a projection back."""

    def __init__(self, latent_dim: int, d_model: int, heads: int, layers: int, ffn: int,
                 dropout: float = 0.1, max_bars: int = 16, **kwargs):
        super().__init__(**kwargs)
        self.latent_dim, self.d_model, self.heads, self.num_layers = latent_dim, d_model, heads, layers
        self.ffn, self.dropout, self.max_bars = ffn, dropout, max_bars
        self.embed = keras.layers.Dense(d_model, name="embed")
        self.drop = keras.layers.Dropout(dropout)
        self.blocks = [EncoderBlock(d_model, heads, ffn, dropout, name=f"block_{i}")
                       for i in range(layers)]
        self.norm = keras.layers.LayerNormalization(epsilon=1e-6)
        self.output_layer = keras.layers.Dense(latent_dim, name="latent")
        self.positions = sinusoidal_positions(max_bars, d_model)

    def call(self, latents, training=False):
        length = latents.shape[1]
        x = self.embed(latents)
        x = x + ops.cast(self.positions[None, :length], x.dtype)
        x = self.drop(x, training=training)
        for block in self.blocks:
            x = block(x, training=training)
        return self.output_layer(self.norm(x))

    def build_from_config(self, config):
        """Built by the first call (``SketchNet.build``), not from recorded shapes."""

    def get_config(self):
        return {**super().get_config(), "latent_dim": self.latent_dim, "d_model": self.d_model,
                "heads": self.heads, "layers": self.num_layers, "ffn": self.ffn,
                "dropout": self.dropout, "max_bars": self.max_bars}
