"""Magenta-style TFRecord files of serialized NoteSequence protos, read without TensorFlow.

A TFRecord is a sequence of ``uint64 length, uint32 crc, payload, uint32 crc`` records; the CRCs
are not checked here (a truncated record ends the file and is reported as unreadable).
"""

from __future__ import annotations

import struct
from typing import Iterator

from musicvae_tf.errors import MusicVAEError

_HEADER = struct.Struct("<Q")


def record_offsets(path: str) -> list[int]:
    """Byte offsets of every complete record's payload in a TFRecord file."""
    offsets = []
    try:
        with open(path, "rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            position = 0
            while position + 12 <= size:
                handle.seek(position)
                (length,) = _HEADER.unpack(handle.read(8))
                payload = position + 12
                if payload + length + 4 > size:
                    raise MusicVAEError(f"{path}: truncated TFRecord")
                offsets.append(payload)
                position = payload + length + 4
    except OSError as exc:
        raise MusicVAEError(f"cannot read {path}: {exc.strerror or exc}") from None
    return offsets


def read_note_sequence(path: str, offset: int):
    """The NoteSequence whose payload starts at ``offset`` in a TFRecord file."""
    from data_pipelines._note_seq import NoteSequence

    try:
        with open(path, "rb") as handle:
            handle.seek(offset - 12)
            (length,) = _HEADER.unpack(handle.read(8))
            handle.seek(offset)
            return NoteSequence.FromString(handle.read(length))
    except Exception as exc:  # OSError, struct.error, protobuf DecodeError
        raise MusicVAEError(f"{path}: record at byte {offset} is not a NoteSequence "
                            f"({type(exc).__name__})") from None


def iter_note_sequences(path: str) -> Iterator:
    """Every NoteSequence in a TFRecord file, in order."""
    for offset in record_offsets(path):
        yield read_note_sequence(path, offset)
