"""Sharded TFRecord files of token windows: names, atomic writing, and cleanup of stale shards.

Each record is a ``tf.train.Example`` with ``tokens`` (int64 list: one window flattened
step-major), ``piece_id`` (bytes) and ``bar_offset`` (int64). Shards are named
``{split}-{index:05d}-of-{count:05d}.tfrecord`` and are written to a temporary file that is renamed
into place, so a reader that globs ``{split}-*.tfrecord`` never sees a half-written shard.

Records and Example protos are encoded here in plain Python (TFRecord framing with masked
CRC32C, protobuf wire format): prepare never imports TensorFlow, whose import alone took longer
than extracting the whole Nottingham set on a busy 2-core machine.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

import numpy as np

from data_pipelines.io_utils import atomic_path

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
    names = []
    bounds = np.linspace(0, len(tokens), num_shards + 1).round().astype(int)
    for index in range(num_shards):
        name = shard_name(split, index, num_shards)
        with atomic_path(Path(out_dir) / name) as tmp:
            with open(tmp, "wb") as handle:
                for row in range(bounds[index], bounds[index + 1]):
                    handle.write(tfrecord(example_bytes(tokens[row].reshape(-1).tolist(),
                                                        piece_ids[row], int(bar_offsets[row]))))
        names.append(name)
    return names


def example_bytes(tokens: list[int], piece_id: str, bar_offset: int) -> bytes:
    """A serialized ``tf.train.Example`` with the tokens, piece_id and bar_offset features."""
    return _field(1, _field(1, _map_entry("tokens", _int64_feature(tokens)))
                  + _field(1, _map_entry("piece_id", _bytes_feature(piece_id.encode())))
                  + _field(1, _map_entry("bar_offset", _int64_feature([bar_offset]))))


def tfrecord(payload: bytes) -> bytes:
    """One TFRecord: length, masked CRC of the length, payload, masked CRC of the payload."""
    length = struct.pack("<Q", len(payload))
    return (length + struct.pack("<I", masked_crc(length)) + payload
            + struct.pack("<I", masked_crc(payload)))


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _map_entry(key: str, value: bytes) -> bytes:
    return _field(1, key.encode()) + _field(2, value)


def _int64_feature(values: list[int]) -> bytes:
    packed = b"".join(_varint(v) for v in values)
    return _field(3, _field(1, packed))  # Feature.int64_list -> Int64List.value (packed)


def _bytes_feature(value: bytes) -> bytes:
    return _field(1, _field(1, value))  # Feature.bytes_list -> BytesList.value


def _crc_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC_TABLE = _crc_table()


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), as TFRecord uses."""
    crc = 0xFFFFFFFF
    table = _CRC_TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc(data: bytes) -> int:
    """TFRecord's masked CRC-32C."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def remove_stale_shards(out_dir: str | Path, keep: set[str]) -> list[str]:
    """Delete shards (and leftover temporary shards) of earlier runs that are not in ``keep``."""
    removed = []
    for path in Path(out_dir).iterdir():
        stale = _SHARD_NAME.match(path.name) and path.name not in keep
        if stale or _TEMP_NAME.match(path.name):
            path.unlink(missing_ok=True)
            removed.append(path.name)
    return sorted(removed)
