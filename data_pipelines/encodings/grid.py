"""The step grid for the multi-track encodings (drums, trio, chords): a NoteSequence's notes
quantised per time segment with the same rules as melody extraction
(``data_pipelines.extraction``), and the empty NoteSequence that decoded tokens are written into.

The piece is split at tempo and time-signature changes; a segment whose meter does not have
``steps_per_bar`` steps per bar is counted as ``"meter N/D"``, one without a positive finite
tempo as ``"bad tempo"``; a piece spanning more than ``max_piece_steps`` steps is ``"too long"``.
Times round to the nearest step (halfway up), as Magenta's quantiser does; a note lasts at least
one step. Notes with NaN, infinite or negative times are ``"bad note times"``, notes of velocity
0 ``"zero velocity"``.
"""

from __future__ import annotations

import collections
import dataclasses
from fractions import Fraction

import numpy as np

from data_pipelines.data_config import DataConfig
from data_pipelines.extraction import _QUANTIZE_OFFSET, DEFAULT_QPM, _time_segments
from data_pipelines.tokens import _meter_for


@dataclasses.dataclass(frozen=True)
class NoteTable:
    """The notes of a NoteSequence as arrays (one entry per note); ``usable`` marks notes with
    finite times and a positive velocity."""

    pitch: np.ndarray
    start: np.ndarray
    end: np.ndarray
    instrument: np.ndarray
    program: np.ndarray
    is_drum: np.ndarray
    usable: np.ndarray


@dataclasses.dataclass(frozen=True)
class QuantizedSegment:
    """The notes of one time segment on its step grid: ``notes`` index the NoteTable;
    ``start``/``end`` are their steps counted from ``start_time``."""

    index: int
    start_time: float
    steps_per_second: float
    notes: np.ndarray
    start: np.ndarray
    end: np.ndarray

    def time_to_step(self, time: float) -> int:
        """The step of a time (rounded as notes are)."""
        return time_to_step(time - self.start_time, self.steps_per_second)


def note_table(note_sequence, skips: collections.Counter) -> NoteTable:
    """Arrays of the notes of ``note_sequence``, counting bad times and zero velocities."""
    notes = note_sequence.notes
    count = len(notes)
    start = np.fromiter((n.start_time for n in notes), np.float64, count)
    end = np.fromiter((n.end_time for n in notes), np.float64, count)
    velocity = np.fromiter((n.velocity for n in notes), np.int32, count)
    bad_times = ~(np.isfinite(start) & np.isfinite(end)) | (start < 0)
    silent = ~bad_times & (velocity <= 0)
    skips["bad note times"] += int(bad_times.sum())
    skips["zero velocity"] += int(silent.sum())
    return NoteTable(
        pitch=np.fromiter((n.pitch for n in notes), np.int32, count),
        start=np.where(bad_times, 0.0, start), end=np.where(bad_times, 0.0, end),
        instrument=np.fromiter((n.instrument for n in notes), np.int64, count),
        program=np.fromiter((n.program for n in notes), np.int32, count),
        is_drum=np.fromiter((n.is_drum for n in notes), bool, count),
        usable=~bad_times & ~silent)


def quantized_segments(note_sequence, table: NoteTable, keep: np.ndarray,
                       data_config: DataConfig, skips: collections.Counter
                       ) -> list[QuantizedSegment]:
    """The segments holding ``keep`` notes, quantised; ``[]`` when the piece is too long."""
    if not keep.any():
        return []
    total_time = float(table.end[keep].max())
    if np.isfinite(note_sequence.total_time):
        total_time = max(total_time, float(note_sequence.total_time))
    segments = []
    piece_steps = 0.0
    for index, segment in enumerate(_time_segments(note_sequence, total_time)):
        inside = np.flatnonzero(keep & (table.start >= segment.start)
                                & (table.start < segment.end))
        if not inside.size:
            continue
        if segment.denominator <= 0 or Fraction(
                data_config.steps_per_quarter * 4 * segment.numerator,
                segment.denominator) != data_config.steps_per_bar:
            skips[f"meter {segment.numerator}/{segment.denominator}"] += 1
            continue
        if not (np.isfinite(segment.qpm) and segment.qpm > 0):
            skips["bad tempo"] += 1
            continue
        steps_per_second = segment.qpm / 60.0 * data_config.steps_per_quarter
        start = (table.start[inside] - segment.start) * steps_per_second
        end = (np.minimum(table.end[inside], segment.end) - segment.start) * steps_per_second
        piece_steps += max(float(start.max()), float(end.max()))
        if not piece_steps <= data_config.max_piece_steps:
            skips["too long"] += 1
            return []
        q_start = np.floor(start + _QUANTIZE_OFFSET).astype(np.int64)
        q_end = np.maximum(np.floor(end + _QUANTIZE_OFFSET).astype(np.int64), q_start + 1)
        segments.append(QuantizedSegment(index, segment.start, steps_per_second, inside,
                                         q_start, q_end))
    return segments


def new_sequence(data_config: DataConfig, qpm: float, num_steps: int):
    """An empty NoteSequence of ``num_steps`` steps at ``qpm`` in the config's meter."""
    from data_pipelines._note_seq import NoteSequence

    sequence = NoteSequence()
    sequence.ticks_per_quarter = 220
    sequence.tempos.add(time=0.0, qpm=qpm)
    numerator, denominator = _meter_for(data_config)
    sequence.time_signatures.add(time=0.0, numerator=numerator, denominator=denominator)
    sequence.total_time = num_steps * seconds_per_step(data_config, qpm)
    return sequence


def seconds_per_step(data_config: DataConfig, qpm: float) -> float:
    """The length of one step at ``qpm``."""
    return 60.0 / qpm / data_config.steps_per_quarter


def first_qpm(note_sequence) -> float:
    """The tempo a NoteSequence starts with (120 when it has none)."""
    return note_sequence.tempos[0].qpm if note_sequence.tempos else DEFAULT_QPM


def time_to_step(time: float, steps_per_second: float) -> int:
    """A time in seconds from 0 as a step, rounded as notes are."""
    return int(np.floor(time * steps_per_second + _QUANTIZE_OFFSET))
