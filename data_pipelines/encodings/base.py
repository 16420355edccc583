"""The encoding seam: one object per data representation (melody, drums, trio, chord-conditioned
melody, ...) that ``prepare``, the tf.data reader, the model's sizes, ``TrainedModel``, piano-roll
plotting and MIDI output all consult, so that a new representation is one new file.

A window is an integer array of shape ``window_shape``: ``(num_steps,)`` for a one-track encoding
(the 90-class melody tokens, exactly as prepared data has always stored them) and
``(num_steps, num_tracks)`` for several tracks (trio: melody, bass, drums; chord-conditioned
melody: melody, chord). Shards store it flattened step-major under the ``tokens`` feature.

Tracks have a role: ``output`` tracks are what the decoder reconstructs (one softmax per track,
``output_splits``); ``control`` tracks are given to the encoder and to every decoder step (chords).
"""

from __future__ import annotations

import abc
import collections
import dataclasses
import io
import os

import numpy as np

from data_pipelines.data_config import DataConfig
from data_pipelines.io_utils import atomic_write_bytes

OUTPUT = "output"
CONTROL = "control"


@dataclasses.dataclass(frozen=True)
class Track:
    """One categorical token column of a window: its name, vocabulary size and role."""

    name: str
    num_classes: int
    role: str = OUTPUT


@dataclasses.dataclass(frozen=True)
class RollLane:
    """One lane of a piano roll: ``notes`` are ``(pitch, start_step, end_step)``; a drum lane's
    "pitch" is the drum class index and ``row_names`` names its rows; ``labels`` are
    ``(step, text)`` written above the notes (chord names)."""

    name: str
    notes: list[tuple[int, int, int]]
    row_names: tuple[str, ...] | None = None
    labels: tuple[tuple[int, str], ...] = ()


class Encoding(abc.ABC):
    """A data representation: how a NoteSequence becomes token windows and back."""

    #: The value of ``data.encoding`` in a config that selects this encoding.
    name: str = ""

    def __init__(self, data_config: DataConfig):
        self.data_config = data_config

    @property
    @abc.abstractmethod
    def tracks(self) -> tuple[Track, ...]:
        """The token columns of a window, in storage order."""

    @property
    def output_splits(self) -> tuple[int, ...]:
        """Vocabulary size of each output track (one decoder softmax each)."""
        return tuple(t.num_classes for t in self.tracks if t.role == OUTPUT)

    @property
    def control_depth(self) -> int:
        """Width of the one-hot controls appended to encoder and decoder inputs (0: none)."""
        return sum(t.num_classes for t in self.tracks if t.role == CONTROL)

    @property
    def encoder_input_depth(self) -> int:
        """Width of one encoder input step (see :meth:`encoder_inputs`)."""
        return sum(t.num_classes for t in self.tracks)

    @property
    def window_shape(self) -> tuple[int, ...]:
        """Shape of one stored window."""
        steps = self.data_config.num_steps
        return (steps,) if len(self.tracks) == 1 else (steps, len(self.tracks))

    @abc.abstractmethod
    def note_sequence_windows(self, note_sequence, source: str = ""
                              ) -> tuple[list, collections.Counter]:
        """Every distinct window of a piece (``data_pipelines.windows.Window`` objects, in piece
        order) and a Counter of counted skips (what ``prepare`` reports)."""

    def no_window_reason(self, note_sequence) -> str:
        """Why ``note_sequence`` gives no window, for a one-line error (by default its skips)."""
        _, skips = self.note_sequence_windows(note_sequence)
        return ", ".join(f"{reason} ({count})" for reason, count in sorted(skips.items())
                         if count) or "no window"

    @abc.abstractmethod
    def to_note_sequence(self, tokens: np.ndarray, qpm: float = 120.0):
        """A NoteSequence playing one window (or any whole number of bars) of tokens."""

    @abc.abstractmethod
    def from_note_sequence(self, note_sequence, num_steps: int | None = None) -> np.ndarray:
        """Encode a NoteSequence from time 0 as one token array (no extraction, no windowing);
        the inverse of :meth:`to_note_sequence` for in-range music."""

    def write_midi(self, tokens: np.ndarray, path: str | os.PathLike, qpm: float = 120.0) -> str:
        """Write ``tokens`` as a standard MIDI file, atomically (by default the MIDI of
        :meth:`to_note_sequence`); returns the path."""
        from data_pipelines._note_seq import note_seq

        buffer = io.BytesIO()
        note_seq.midi_io.note_sequence_to_pretty_midi(self.to_note_sequence(tokens, qpm)) \
            .write(buffer)
        atomic_write_bytes(path, buffer.getvalue())
        return str(path)

    @abc.abstractmethod
    def roll_lanes(self, tokens: np.ndarray) -> list[RollLane]:
        """What a piano roll of ``tokens`` draws, one lane per instrument."""

    def encoder_inputs(self, tokens):
        """The encoder's input for a batch of windows ``[..., *window_shape]`` (a tf.Tensor):
        by default the one-hot of every track, concatenated in track order."""
        import tensorflow as tf

        columns = tokens[..., tf.newaxis] if len(self.tracks) == 1 else tokens
        return tf.concat([tf.one_hot(columns[..., i], t.num_classes)
                          for i, t in enumerate(self.tracks)], axis=-1)

    def decoder_inputs(self, tokens):
        """What the decoder of a batch of windows ``[..., *window_shape]`` (a tf.Tensor) reads
        and predicts: ``(targets_one_hot, output_tokens, controls)``, the one-hots of the output
        tracks side by side, their int tokens (``[..., T]`` for one output track, else
        ``[..., T, outputs]``) and the control tracks' one-hots (None without controls)."""
        import tensorflow as tf

        columns = tokens[..., tf.newaxis] if len(self.tracks) == 1 else tokens
        outputs = [i for i, t in enumerate(self.tracks) if t.role == OUTPUT]
        targets = tf.concat([tf.one_hot(columns[..., i], self.tracks[i].num_classes)
                             for i in outputs], axis=-1)
        output_tokens = (columns[..., outputs[0]] if len(outputs) == 1
                         else tf.gather(columns, outputs, axis=-1))
        controls = [tf.one_hot(columns[..., i], t.num_classes)
                    for i, t in enumerate(self.tracks) if t.role == CONTROL]
        return targets, output_tokens, tf.concat(controls, axis=-1) if controls else None

    def transpose(self, tokens, fraction, low: int, high: int):
        """Training augmentation (tf ops): shift a batch of windows ``[batch, *window_shape]`` by
        a semitone count picked by ``fraction`` in [0, 1) per window among the shifts in
        ``[low, high]`` that keep the window in range. By default nothing is pitched: unchanged."""
        return tokens
