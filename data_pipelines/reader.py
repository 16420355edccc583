"""tf.data input: sharded token windows -> (encoder inputs float32 [B, T, D], tokens int32
[B, *window_shape]), both as the config's encoding (``data.encoding``) defines them; for the
melody encoding the encoder inputs are the one-hot tokens ``[B, T, 90]``.

Training pipeline: interleaved shard read -> batched parse -> cache -> per-epoch draw -> batch (drop
remainder) -> transposition augmentation -> encoder inputs -> prefetch. ``prepare`` keeps every window;
each training epoch draws a fresh random subset of at most ``data.max_windows_per_piece`` windows
per piece (Magenta draws its 5 once, when converting) and visits them in a random order. The draw,
the order and the transpositions are stateless functions of ``(seed, epoch)`` and ``(seed, batch
index)``, so the same seed gives the same stream under any ``input_context``. Augmentation runs
after the cache (unlike Magenta, whose cached transpositions are frozen after the first epoch).
Evaluation is one pass over every window in file order without augmentation.
"""

from __future__ import annotations

from pathlib import Path

import tensorflow as tf

from data_pipelines.data_config import DataConfig
from data_pipelines.data_dir import check_prepared_data
from data_pipelines.encodings import encoding_for
from data_pipelines.shards import shard_paths

_PARSE_BATCH = 1024
_ALL = 2**31 - 1  # a batch size that holds a whole split


def make_dataset(data_dir: str | Path, split: str, data_config: DataConfig, batch_size: int, *,
                 training: bool, seed: int = 0, input_context: tf.distribute.InputContext | None = None
                 ) -> tf.data.Dataset:
    """Batches of ``(encoder_inputs, tokens)`` from ``data_dir``'s ``split`` shards.

    ``batch_size`` is global; with an ``input_context`` (``distribute_datasets_from_function``)
    each input pipeline reads its share of the shards (or records) and batches its per-replica
    size. ``training=True`` repeats forever, augments, shuffles and drops the remainder.
    """
    check_prepared_data(data_dir, data_config, split)
    encoding = encoding_for(data_config)
    files = shard_paths(data_dir, split)
    if input_context is not None:
        batch_size = input_context.get_per_replica_batch_size(batch_size)
    if training:
        windows = _read_records(files, data_config, training=True).cache()
        tokens = (epoch_draws(windows, data_config.max_windows_per_piece, seed, input_context)
                  .batch(batch_size, drop_remainder=True, num_parallel_calls=tf.data.AUTOTUNE,
                         deterministic=True))
        low, high = data_config.transpose_range
        if (low, high) != (0, 0):
            tokens = tokens.enumerate().map(
                lambda index, batch: encoding.transpose(
                    batch, _random_shift_fraction(batch, seed, index), low, high),
                num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    else:
        tokens = _read_eval_tokens(files, data_config, input_context).cache().batch(batch_size)
    dataset = tokens.map(lambda t: (tf.cast(encoding.encoder_inputs(t), tf.float32), t),
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


def _random_shift_fraction(batch: tf.Tensor, seed: int, index: tf.Tensor) -> tf.Tensor:
    """Per-window uniform [0, 1) from a stateless seed derived from (seed, batch index)."""
    stateless_seed = tf.stack([tf.constant(seed, tf.int64), tf.cast(index, tf.int64)])
    return tf.random.stateless_uniform(tf.shape(batch)[:1], stateless_seed, dtype=tf.float32)


def _features(data_config: DataConfig) -> dict:
    return {
        "tokens": tf.io.FixedLenFeature(encoding_for(data_config).window_shape, tf.int64),
        "piece_id": tf.io.FixedLenFeature([], tf.string, default_value=""),
        "bar_offset": tf.io.FixedLenFeature([], tf.int64, default_value=0),
    }


def epoch_draws(windows: tf.data.Dataset, max_per_piece: int, seed: int,
                input_context: tf.distribute.InputContext | None = None) -> tf.data.Dataset:
    """An endless stream of token windows from ``(tokens, piece_key)`` records, epoch by epoch.

    Each epoch keeps at most ``max_per_piece`` windows of every piece (all when 0), a uniformly
    random subset drawn from ``(seed, epoch)``, in a random order; with an ``input_context`` every
    input pipeline takes its share of each epoch's draw.
    """
    pipelines = input_context.num_input_pipelines if input_context else 1
    pipeline_id = input_context.input_pipeline_id if input_context else 0
    everything = windows.batch(_ALL)

    def one_epoch(epoch, batch):
        tokens, pieces = batch
        keys = tf.random.stateless_uniform(tf.shape(pieces), tf.stack([tf.cast(seed, tf.int64),
                                                                       epoch]))
        chosen = draw_per_piece(pieces, keys, max_per_piece)
        chosen = tf.gather(chosen, tf.argsort(tf.gather(keys, chosen), stable=True))
        return tf.data.Dataset.from_tensor_slices(
            tf.gather(tokens, chosen[pipeline_id::pipelines]))

    return everything.repeat().enumerate().flat_map(one_epoch)


def draw_per_piece(pieces: tf.Tensor, keys: tf.Tensor, max_per_piece: int) -> tf.Tensor:
    """Indices of the windows whose ``keys`` are among the ``max_per_piece`` smallest of their
    piece (every index when ``max_per_piece`` is 0)."""
    if max_per_piece <= 0:
        return tf.range(tf.shape(pieces, out_type=tf.int64)[0])
    by_key = tf.argsort(keys, stable=True)
    order = tf.gather(by_key, tf.argsort(tf.gather(pieces, by_key), stable=True))
    grouped = tf.gather(pieces, order)
    starts = tf.concat([[True], grouped[1:] != grouped[:-1]], axis=0)
    group = tf.cumsum(tf.cast(starts, tf.int64)) - 1
    position = tf.range(tf.shape(grouped, out_type=tf.int64)[0])
    rank = position - tf.gather(tf.math.segment_min(position, group), group)
    return tf.cast(tf.boolean_mask(order, rank < max_per_piece), tf.int64)


def _read_records(files: list[str], data_config: DataConfig, training: bool) -> tf.data.Dataset:
    """Unbatched ``(tokens int32 [*window_shape], piece_key int64)``; the key is a hash of the piece id."""
    dataset = tf.data.Dataset.from_tensor_slices(files)
    if training:
        records = dataset.interleave(tf.data.TFRecordDataset, cycle_length=min(4, len(files)),
                                     num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    else:
        records = dataset.flat_map(tf.data.TFRecordDataset)
    features = _features(data_config)
    features = {"tokens": features["tokens"], "piece_id": features["piece_id"]}

    def parse(serialized):
        parsed = tf.io.parse_example(serialized, features)
        return (tf.cast(parsed["tokens"], tf.int32),
                tf.strings.to_hash_bucket_fast(parsed["piece_id"], 2**62))

    return (records.batch(_PARSE_BATCH)
            .map(parse, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
            .unbatch())


def _read_eval_tokens(files: list[str], data_config: DataConfig,
                      input_context: tf.distribute.InputContext | None) -> tf.data.Dataset:
    """Every window's tokens in file order, sharded for ``input_context``."""
    tokens = _read_records(files, data_config, training=False).map(lambda t, _: t)
    pipelines = input_context.num_input_pipelines if input_context else 1
    if pipelines > 1:
        tokens = tokens.shard(pipelines, input_context.input_pipeline_id)
    return tokens
