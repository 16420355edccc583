"""Tiny configs and synthetic token windows shared by the training and evaluation tests."""

from __future__ import annotations

import numpy as np

from musicvae_tf.config import load_config

TINY_SETTINGS = [
    "data.num_bars=2", "data.steps_per_bar=4", "data.min_pitch=60", "data.max_pitch=71",
    "data.transpose_range=[0,0]",
    "model.encoder_units=[16]", "model.latent_dim=4", "model.decoder_units=[16]",
    "training.batch_size=8", "training.learning_rate=0.01", "training.min_learning_rate=0.001",
    "training.sampling_schedule=none", "training.max_beta=0.01", "training.beta_rate=0",
    "training.checkpoint_every=5", "training.summary_every=1",
]
TINY_HIERARCHICAL = ["model.decoder=hierarchical", "model.conductor_units=[8]"]


def tiny_config(*extra: str, hierarchical: bool = False):
    """A config small enough to train a handful of steps in about a second."""
    settings = TINY_SETTINGS + (TINY_HIERARCHICAL if hierarchical else []) + list(extra)
    return load_config("demo-mel_2bar", settings)


def synthetic_tokens(config, count: int = 32, patterns: int = 4, seed: int = 0) -> np.ndarray:
    """``count`` windows drawn from a few fixed random melodies (easy to overfit), int32 [N, T]."""
    data = config.data
    rng = np.random.default_rng(seed)
    bank = rng.integers(0, data.num_classes, size=(patterns, data.num_steps)).astype(np.int32)
    return bank[rng.integers(0, patterns, size=count)]


def token_dataset_fn(tokens: np.ndarray, config):
    """A ``dataset_fn(input_context)`` cycling through ``tokens`` as ``(one_hot, tokens)``."""
    import tensorflow as tf

    num_classes = config.data.num_classes
    global_batch = config.training.batch_size

    def dataset_fn(input_context):
        batch = input_context.get_per_replica_batch_size(global_batch)
        data = tf.data.Dataset.from_tensor_slices(tokens).repeat()
        data = data.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)
        data = data.batch(batch, drop_remainder=True)
        return data.map(lambda t: (tf.one_hot(t, num_classes), t))

    return dataset_fn
