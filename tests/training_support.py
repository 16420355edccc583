"""Tiny configs and synthetic token windows shared by the training and evaluation tests."""

from __future__ import annotations

import numpy as np

from musicvae_tf.config import load_config

# Runs the musicvae-tf entry point with the remaining command-line arguments.
_CLI = "import sys; from musicvae_tf.cli import main; sys.exit(main())"

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
    """A ``dataset_fn(input_context, start_step)`` cycling through ``tokens`` as ``(one_hot, tokens)``.

    Resuming at step ``s`` skips the first ``s`` batches, so an interrupted and resumed run sees
    exactly the data of an uninterrupted one.
    """
    import tensorflow as tf

    num_classes = config.data.num_classes
    global_batch = config.training.batch_size

    def dataset_fn(input_context, start_step=0):
        batch = input_context.get_per_replica_batch_size(global_batch)
        data = tf.data.Dataset.from_tensor_slices(tokens).repeat()
        data = data.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)
        data = data.batch(batch, drop_remainder=True).skip(start_step * input_context.num_replicas_in_sync)
        return data.map(lambda t: (tf.one_hot(t, num_classes), t))

    return dataset_fn


def write_prepared_data(data_dir, config, tokens_by_split: dict) -> None:
    """Write token windows as the data pipeline's shards plus data_config.json (no MIDI needed)."""
    from pathlib import Path

    from data_pipelines.prepare import data_config_dict
    from data_pipelines.shards import write_shards
    from data_pipelines.io_utils import write_json

    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    for split, tokens in tokens_by_split.items():
        ids = [f"synthetic-{split}-{i}" for i in range(len(tokens))]
        write_shards(data_dir, split, np.asarray(tokens), ids, np.zeros(len(tokens), int), 1)
    write_json(data_dir / "data_config.json", data_config_dict(config.data))


def tiny_settings_file(path, *extra: str, hierarchical: bool = False):
    """Write the tiny config as YAML (for CLI tests) and return its path."""
    import yaml

    config = tiny_config(*extra, hierarchical=hierarchical)
    path.write_text(yaml.safe_dump(config.to_dict(), sort_keys=False))
    return path


def run_cli(args: list[str], **kwargs):
    """Run ``musicvae-tf`` in a fresh Python process; returns the CompletedProcess."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="")
    env.update(kwargs.pop("env", {}))
    return subprocess.run([sys.executable, "-c", _CLI, *args], env=env,
                          capture_output=True, text=True, **kwargs)


def start_cli(args: list[str], env: dict | None = None):
    """Start ``musicvae-tf`` in the background; returns the Popen (stdout/stderr piped)."""
    import os
    import subprocess
    import sys

    full_env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="")
    full_env.update(env or {})
    return subprocess.Popen([sys.executable, "-c", _CLI, *args], env=full_env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
