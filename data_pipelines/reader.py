"""tf.data input: sharded token windows -> (one-hot float32 [B, T, C], tokens int32 [B, T]).

Training pipeline: interleaved shard read -> batched parse -> cache -> shuffle (seeded) -> repeat ->
batch (drop remainder) -> transposition augmentation -> one-hot -> prefetch. Augmentation runs
after the cache (unlike Magenta, whose cached transpositions are frozen after the first epoch),
in-graph and stateless: the shift of each example comes from ``(seed, batch index)``, so the same
seed gives the same stream. Evaluation is one pass in file order without augmentation.
"""

from __future__ import annotations

from pathlib import Path

import tensorflow as tf

from data_pipelines.data_dir import check_prepared_data
from data_pipelines.shards import shard_paths
from data_pipelines.tokens import FIRST_PITCH_TOKEN
from musicvae_tf.config import DataConfig

SHUFFLE_BUFFER = 20_000
_PARSE_BATCH = 1024


def make_dataset(data_dir: str | Path, split: str, data_config: DataConfig, batch_size: int, *,
                 training: bool, seed: int = 0, input_context: tf.distribute.InputContext | None = None
                 ) -> tf.data.Dataset:
    """Batches of ``(one_hot, tokens)`` from ``data_dir``'s ``split`` shards.

    ``batch_size`` is global; with an ``input_context`` (``distribute_datasets_from_function``)
    each input pipeline reads its share of the shards (or records) and batches its per-replica
    size. ``training=True`` repeats forever, augments, shuffles and drops the remainder.
    """
    check_prepared_data(data_dir, data_config, split)
    files = shard_paths(data_dir, split)
    if input_context is not None:
        batch_size = input_context.get_per_replica_batch_size(batch_size)
    tokens = _read_tokens(files, data_config, training, input_context).cache()
    if training:
        tokens = (tokens.shuffle(SHUFFLE_BUFFER, seed=seed, reshuffle_each_iteration=True)
                  .repeat()
                  .batch(batch_size, drop_remainder=True, num_parallel_calls=tf.data.AUTOTUNE,
                         deterministic=True))
        low, high = data_config.transpose_range
        if (low, high) != (0, 0):
            num_classes = data_config.num_classes
            tokens = tokens.enumerate().map(
                lambda index, batch: transpose_tokens(
                    batch, _random_shift_fraction(batch, seed, index), low, high, num_classes),
                num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    else:
        tokens = tokens.batch(batch_size)
    num_classes = data_config.num_classes
    dataset = tokens.map(lambda t: (tf.one_hot(t, num_classes, dtype=tf.float32), t),
                         num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    options = tf.data.Options()
    options.deterministic = True
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.OFF
    return dataset.with_options(options).prefetch(tf.data.AUTOTUNE)


def read_windows(data_dir: str | Path, split: str, data_config: DataConfig) -> tf.data.Dataset:
    """Unbatched ``{"tokens", "piece_id", "bar_offset"}`` records of ``split`` in file order."""
    check_prepared_data(data_dir, data_config, split)
    features = _features(data_config)
    return (tf.data.TFRecordDataset(shard_paths(data_dir, split))
            .map(lambda record: tf.io.parse_single_example(record, features)))


def transpose_tokens(tokens: tf.Tensor, fraction: tf.Tensor, low: int, high: int,
                     num_classes: int) -> tf.Tensor:
    """Shift note-on tokens of each window by a semitone count chosen among the valid shifts.

    ``fraction`` in [0, 1) per window picks uniformly among the shifts in ``[low, high]`` that keep
    every note in the vocabulary (0 when none does); tokens 0 and 1 are unchanged.
    """
    tokens = tf.convert_to_tensor(tokens)
    is_note = tokens >= FIRST_PITCH_TOKEN
    big = tf.constant(num_classes, tokens.dtype)
    lowest = tf.reduce_min(tf.where(is_note, tokens, big), axis=-1)
    highest = tf.reduce_max(tf.where(is_note, tokens, tf.zeros_like(tokens)), axis=-1)
    has_notes = tf.reduce_any(is_note, axis=-1)
    valid_low = tf.where(has_notes, tf.maximum(low, FIRST_PITCH_TOKEN - lowest), low)
    valid_high = tf.where(has_notes, tf.minimum(high, num_classes - 1 - highest), high)
    choices = valid_high - valid_low + 1
    picked = valid_low + tf.cast(tf.floor(fraction * tf.cast(choices, fraction.dtype)), tokens.dtype)
    shift = tf.where(choices > 0, tf.minimum(picked, valid_high), tf.zeros_like(picked))
    return tf.where(is_note, tokens + shift[..., tf.newaxis], tokens)


def _random_shift_fraction(batch: tf.Tensor, seed: int, index: tf.Tensor) -> tf.Tensor:
    """Per-window uniform [0, 1) from a stateless seed derived from (seed, batch index)."""
    stateless_seed = tf.stack([tf.constant(seed, tf.int64), tf.cast(index, tf.int64)])
    return tf.random.stateless_uniform(tf.shape(batch)[:1], stateless_seed, dtype=tf.float32)


def _features(data_config: DataConfig) -> dict:
    return {
        "tokens": tf.io.FixedLenFeature([data_config.num_steps], tf.int64),
        "piece_id": tf.io.FixedLenFeature([], tf.string, default_value=""),
        "bar_offset": tf.io.FixedLenFeature([], tf.int64, default_value=0),
    }


def _read_tokens(files: list[str], data_config: DataConfig, training: bool,
                 input_context: tf.distribute.InputContext | None) -> tf.data.Dataset:
    """Unbatched int32 token windows, sharded for ``input_context``."""
    pipelines = input_context.num_input_pipelines if input_context else 1
    pipeline_id = input_context.input_pipeline_id if input_context else 0
    shard_files = pipelines > 1 and len(files) >= pipelines
    dataset = tf.data.Dataset.from_tensor_slices(files)
    if shard_files:
        dataset = dataset.shard(pipelines, pipeline_id)
    if training:
        records = dataset.interleave(tf.data.TFRecordDataset, cycle_length=min(4, len(files)),
                                     num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    else:
        records = dataset.flat_map(tf.data.TFRecordDataset)
    if pipelines > 1 and not shard_files:
        records = records.shard(pipelines, pipeline_id)
    features = {"tokens": _features(data_config)["tokens"]}
    return (records.batch(_PARSE_BATCH)
            .map(lambda r: tf.cast(tf.io.parse_example(r, features)["tokens"], tf.int32),
                 num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
            .unbatch())
