"""Tiny VQ-VAE configs and data for the tests/test_vq_*.py files."""

from __future__ import annotations

import numpy as np

from musicvae_tf.config import load_config

TINY_VQ = [
    "data.num_bars=16", "data.steps_per_bar=4", "data.min_pitch=60", "data.max_pitch=71",
    "model.encoder_units=[16]", "model.latent_dim=8", "model.decoder_units=[16]",
    "vq.num_groups=2", "vq.codebook_size=16",
    "prior.layers=1", "prior.d_model=16", "prior.heads=2", "prior.ffn=32", "prior.dropout=0",
    "prior.num_steps=5", "prior.batch_size=8",
    "prior.warmup_steps=2", "prior.learning_rate=0.01",
    "training.batch_size=8", "training.learning_rate=0.01", "training.min_learning_rate=0.001",
    "training.checkpoint_every=5", "training.summary_every=2",
]


def tiny_vq_config(*extra: str):
    """A vq_vae config that trains a step in well under a second."""
    return load_config("demo-vq_vae-mel_16bar", TINY_VQ + list(extra))


def bar_bank_windows(config, count: int = 32, seed: int = 0) -> np.ndarray:
    """Windows int32 ``[count, T]`` alternating two of a bank of 4 random bars (X Y X Y ...), so
    bars are easy to learn and a missing bar follows from its neighbours."""
    data = config.data
    rng = np.random.default_rng(seed)
    bank = rng.integers(0, data.num_classes, size=(4, data.steps_per_bar))
    pairs = np.stack([rng.choice(4, size=2, replace=False) for _ in range(count)])
    order = pairs[:, np.arange(data.num_bars) % 2]
    return bank[order].reshape(count, -1).astype(np.int32)
