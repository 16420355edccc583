"""Sharded TFRecord files of token windows: names, atomic writing, and cleanup of stale shards.

Each record is a ``tf.train.Example`` with ``tokens`` (int64 list of ``num_steps``), ``piece_id``
(bytes) and ``bar_offset`` (int64). Shards are named ``{split}-{index:05d}-of-{count:05d}.tfrecord``
and are written to a temporary file that is renamed into place, so a reader that globs
``{split}-*.tfrecord`` never sees a half-written shard.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from musicvae_tf.io_utils import atomic_path

SHARD_SUFFIX = ".tfrecord"
_SHARD_NAME = re.compile(r"^(train|eval|test)-\d{5}-of-\d{5}\.tfrecord$")
_TEMP_NAME = re.compile(r"^\.(train|eval|test)-\d{5}-of-\d{5}\.tfrecord\..*\.tmp$")


def shard_name(split: str, index: int, count: int) -> str:
    """File name of shard ``index`` of ``count`` for ``split``."""
    return f"{split}-{index:05d}-of-{count:05d}{SHARD_SUFFIX}"


def shard_paths(data_dir: str | Path, split: str) -> list[str]:
    """The finished shards of ``split`` in ``data_dir``, sorted."""
    return sorted(str(p) for p in Path(data_dir).glob(f"{split}-*{SHARD_SUFFIX}")
                  if _SHARD_NAME.match(p.name))


def write_shards(out_dir: str | Path, split: str, tokens: np.ndarray, piece_ids: list[str],
                 bar_offsets: np.ndarray, num_shards: int) -> list[str]:
    """Write ``split``'s windows as ``num_shards`` contiguous shards; returns their file names."""
    import tensorflow as tf

    names = []
    bounds = np.linspace(0, len(tokens), num_shards + 1).round().astype(int)
    for index in range(num_shards):
        name = shard_name(split, index, num_shards)
        with atomic_path(Path(out_dir) / name) as tmp:
            with tf.io.TFRecordWriter(str(tmp)) as writer:
                for row in range(bounds[index], bounds[index + 1]):
                    writer.write(_example(tf, tokens[row], piece_ids[row], int(bar_offsets[row])))
        names.append(name)
    return names


def _example(tf, tokens: np.ndarray, piece_id: str, bar_offset: int) -> bytes:
    feature = {
        "tokens": tf.train.Feature(int64_list=tf.train.Int64List(value=tokens.tolist())),
        "piece_id": tf.train.Feature(bytes_list=tf.train.BytesList(value=[piece_id.encode()])),
        "bar_offset": tf.train.Feature(int64_list=tf.train.Int64List(value=[bar_offset])),
    }
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def remove_stale_shards(out_dir: str | Path, keep: set[str]) -> list[str]:
    """Delete shards (and leftover temporary shards) of earlier runs that are not in ``keep``."""
    removed = []
    for path in Path(out_dir).iterdir():
        stale = _SHARD_NAME.match(path.name) and path.name not in keep
        if stale or _TEMP_NAME.match(path.name):
            path.unlink(missing_ok=True)
            removed.append(path.name)
    return sorted(removed)
