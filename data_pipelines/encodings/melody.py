"""The 90-class melody encoding (SPEC §1): one monophonic melody per window, Magenta's
``OneHotMelodyConverter``. Built on ``tokens`` (the vocabulary), ``extraction`` (the monophonic
reduction of a piece) and ``windows`` (N-bar windows); shards keep the layout they always had."""

from __future__ import annotations

import os

import numpy as np

from data_pipelines.encodings.base import Encoding, RollLane, Track
from data_pipelines.extraction import extract_melody_spans
from data_pipelines.tokens import (FIRST_PITCH_TOKEN, note_sequence_to_tokens, token_notes,
                                   tokens_to_note_sequence, write_midi)
from data_pipelines.windows import describe_no_windows, melody_windows


class MelodyEncoding(Encoding):
    """One track of ``data.num_classes`` tokens: no-event, note-off, a note-on per pitch."""

    name = "melody"

    @property
    def tracks(self) -> tuple[Track, ...]:
        """The melody track."""
        return (Track("melody", self.data_config.num_classes),)

    def note_sequence_windows(self, note_sequence, source: str = ""):
        """Extracted melodies cut into windows (see ``data_pipelines.windows.melody_windows``)."""
        melodies, skips = extract_melody_spans(note_sequence, self.data_config)
        windows, window_skips = melody_windows(melodies, self.data_config, source)
        skips.update(window_skips)
        return windows, skips

    def no_window_reason(self, note_sequence) -> str:
        """Why a piece gives no window: no notes, wrong meter, no melody, too short, ..."""
        melodies, skips = extract_melody_spans(note_sequence, self.data_config)
        _, window_skips = melody_windows(melodies, self.data_config)
        return describe_no_windows(melodies, skips + window_skips, self.data_config)

    def to_note_sequence(self, tokens: np.ndarray, qpm: float = 120.0):
        """The melody as a NoteSequence (see ``tokens_to_note_sequence``)."""
        return tokens_to_note_sequence(tokens, self.data_config, qpm=qpm)

    def from_note_sequence(self, note_sequence, num_steps: int | None = None) -> np.ndarray:
        """The monophonic tokens of a NoteSequence from time 0 (``note_sequence_to_tokens``)."""
        return note_sequence_to_tokens(note_sequence, self.data_config, num_steps)

    def write_midi(self, tokens: np.ndarray, path: str | os.PathLike, qpm: float = 120.0) -> str:
        """One instrument playing the melody (``data_pipelines.tokens.write_midi``)."""
        return write_midi(tokens, path, self.data_config, qpm=qpm)

    def roll_lanes(self, tokens: np.ndarray) -> list[RollLane]:
        """One lane holding the melody's notes."""
        return [RollLane("melody", token_notes(tokens, self.data_config))]

    def transpose(self, tokens, fraction, low: int, high: int):
        """Shift each window's note-ons (see :func:`transpose_tokens`)."""
        return transpose_tokens(tokens, fraction, low, high, self.data_config.num_classes)


def transpose_tokens(tokens, fraction, low: int, high: int, num_classes: int):
    """Shift note-on tokens of each window by a semitone count chosen among the valid shifts.

    ``fraction`` in [0, 1) per window picks uniformly among the shifts in ``[low, high]`` that keep
    every note in the vocabulary (0 when none does); tokens 0 and 1 are unchanged. TensorFlow ops.
    """
    import tensorflow as tf

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
