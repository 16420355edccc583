"""Tiny MusicVAE models and token batches shared by the model tests."""

from __future__ import annotations

import numpy as np

from musicvae_tf.config import load_config
from musicvae_tf.models.music_vae.model import build_model

TINY_FLAT = ["data.num_bars=2", "data.steps_per_bar=4", "model.encoder_units=[12]",
             "model.latent_dim=5", "model.decoder=flat", "model.decoder_units=[10, 8]"]
TINY_HIERARCHICAL = ["data.num_bars=3", "data.steps_per_bar=4", "model.encoder_units=[12, 6]",
                     "model.latent_dim=5", "model.decoder=hierarchical",
                     "model.conductor_units=[7, 9]", "model.decoder_units=[10, 8]"]


def tiny_config(hierarchical: bool, *extra: str):
    """A config with a handful of units (90 classes, a few steps)."""
    return load_config("demo-mel_2bar", (TINY_HIERARCHICAL if hierarchical else TINY_FLAT)
                       + list(extra))


def tiny_model(hierarchical: bool, *extra: str):
    """``(config, built model)``."""
    config = tiny_config(hierarchical, *extra)
    return config, build_model(config)


def random_tokens(config, batch: int = 3, seed: int = 0) -> np.ndarray:
    """Random int32 tokens ``[batch, T]``."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, config.data.num_classes,
                        size=(batch, config.data.num_steps)).astype(np.int32)
