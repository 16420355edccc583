"""Turn MIDI, ABC, NoteSequence TFRecords and music21's built-in corpora into token windows.

Importing this package does not import TensorFlow: ``make_dataset`` (tf.data) and the shard
writer load it on first use.
"""

from __future__ import annotations

from data_pipelines.extraction import Melody, extract_melodies, extract_melody_spans
from data_pipelines.sources import (MUSIC21_CORPORA, Piece, PieceRef, iter_pieces, list_pieces,
                                    load_piece)
from data_pipelines.splits import SPLITS, split_for
from data_pipelines.tokens import (NO_EVENT, NOTE_OFF, tokens_to_note_sequence,
                                   tokens_to_pretty_midi, write_midi)
from data_pipelines.windows import Window, melody_windows, windows_from_file

_LAZY = {
    "make_dataset": "data_pipelines.reader",
    "transpose_tokens": "data_pipelines.encodings.melody",
    "read_windows": "data_pipelines.reader",
    "prepare_dataset": "data_pipelines.prepare",
}

__all__ = [
    "MUSIC21_CORPORA", "Melody", "NOTE_OFF", "NO_EVENT", "Piece", "PieceRef", "SPLITS", "Window",
    "extract_melodies", "extract_melody_spans", "iter_pieces", "list_pieces", "load_piece",
    "melody_windows", "split_for", "tokens_to_note_sequence", "tokens_to_pretty_midi",
    "windows_from_file", "write_midi", *_LAZY,
]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'data_pipelines' has no attribute {name!r}")
