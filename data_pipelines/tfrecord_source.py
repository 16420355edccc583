"""Magenta-style TFRecord files of serialized NoteSequence protos, read without TensorFlow.

A TFRecord is a sequence of ``uint64 length, uint32 masked crc of the length, payload, uint32
crc`` records. The length's CRC is checked (it is 8 bytes, and a wrong length misframes every
later record); the payload's is not (a damaged payload fails to parse as a NoteSequence). A file
cut short or damaged keeps its records up to the damage; the rest is reported as one bad record.
"""

from __future__ import annotations

import struct
from typing import Iterator

from data_pipelines.shards import masked_crc
from data_pipelines.errors import MusicVAEError

_HEADER = struct.Struct("<QI")


def record_offsets(path: str) -> tuple[list[int], str]:
    """Byte offsets of the payloads of the file's good records, and why reading stopped early
    (``""`` when the whole file was read)."""
    offsets = []
    try:
        with open(path, "rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            position = 0
            while position < size:
                handle.seek(position)
                header = handle.read(_HEADER.size)
                if len(header) < _HEADER.size:
                    return offsets, f"truncated TFRecord at byte {position}"
                length, length_crc = _HEADER.unpack(header)
                if masked_crc(header[:8]) != length_crc:
                    return offsets, f"corrupt TFRecord length at byte {position}"
                payload = position + _HEADER.size
                if payload + length + 4 > size:
                    return offsets, f"truncated TFRecord at byte {position}"
                offsets.append(payload)
                position = payload + length + 4
    except OSError as exc:
        raise MusicVAEError(f"cannot read {path}: {exc.strerror or exc}") from None
    return offsets, ""


def read_note_sequence(path: str, offset: int):
    """The NoteSequence whose payload starts at ``offset`` in a TFRecord file."""
    from data_pipelines._note_seq import NoteSequence

    try:
        with open(path, "rb") as handle:
            handle.seek(offset - _HEADER.size)
            length, _ = _HEADER.unpack(handle.read(_HEADER.size))
            handle.seek(offset)
            return NoteSequence.FromString(handle.read(length))
    except Exception as exc:  # OSError, struct.error, protobuf DecodeError
        raise MusicVAEError(f"{path}: record at byte {offset} is not a NoteSequence "
                            f"({type(exc).__name__})") from None


def iter_note_sequences(path: str) -> Iterator:
    """Every NoteSequence in a TFRecord file, in order."""
    offsets, damage = record_offsets(path)
    for offset in offsets:
        yield read_note_sequence(path, offset)
    if damage:
        raise MusicVAEError(f"{path}: {damage}")
