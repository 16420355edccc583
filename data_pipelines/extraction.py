"""Monophonic melody extraction from a NoteSequence (SPEC §1), written for this project.

Steps: split the piece at tempo and time-signature changes; keep only segments whose meter has
``steps_per_bar`` steps per bar (others are counted as ``"meter N/D"``); quantise each segment at
``steps_per_quarter``; then, per instrument, walk the notes in (start, highest pitch first) order:
a note starting on the same step as the previous note-on is dropped (the highest note wins), a note
starting while another sounds cuts it, and a silence of ``gap_bars`` bars ends the melody. Melodies
start on a bar boundary, are padded to whole bars (a last note ending exactly on a bar line adds no
bar) and are cut after ``max_bars`` bars, all as Magenta's melody extraction does.

Counted skips (a ``Counter``): ``"drums"``, ``"program filtered"``, ``"out of range notes"``,
``"polyphony reduced"``, ``"zero velocity"`` and ``"bad note times"`` (NaN, infinite or a
negative start) count
notes; ``"meter N/D"`` and ``"bad tempo"`` (not a positive finite qpm) count segments that hold
notes; ``"no notes"`` counts pieces without any note and ``"too long"`` pieces whose segments span
more than ``max_piece_steps`` steps, found before any per-step list is built.
"""

from __future__ import annotations

import collections
import dataclasses
from fractions import Fraction

import numpy as np

from data_pipelines.tokens import FIRST_PITCH_TOKEN, NO_EVENT, NOTE_OFF
from data_pipelines.data_config import DataConfig

DEFAULT_QPM = 120.0
# Magenta's quantiser rounds a time to the nearest step (halfway rounds up).
_QUANTIZE_OFFSET = 0.5


@dataclasses.dataclass(frozen=True)
class Melody:
    """One extracted melody: tokens (a whole number of bars) and where it starts in the piece."""

    tokens: np.ndarray
    segment: int
    start_bar: int


@dataclasses.dataclass(frozen=True)
class _Segment:
    start: float
    end: float
    qpm: float
    numerator: int
    denominator: int


def extract_melodies(note_sequence, data_config: DataConfig):
    """Whole melodies of ``note_sequence`` as bar-aligned token arrays, plus a Counter of skips."""
    melodies, skips = extract_melody_spans(note_sequence, data_config)
    return [melody.tokens for melody in melodies], skips


def extract_melody_spans(note_sequence, data_config: DataConfig):
    """Like :func:`extract_melodies` but each melody also says its time segment and start bar."""
    skips: collections.Counter = collections.Counter()
    notes = note_sequence.notes
    if not notes:
        skips["no notes"] += 1
        return [], skips
    pitch = np.fromiter((n.pitch for n in notes), np.int32, len(notes))
    start = np.fromiter((n.start_time for n in notes), np.float64, len(notes))
    end = np.fromiter((n.end_time for n in notes), np.float64, len(notes))
    velocity = np.fromiter((n.velocity for n in notes), np.int32, len(notes))
    instrument = np.fromiter((n.instrument for n in notes), np.int64, len(notes))
    program = np.fromiter((n.program for n in notes), np.int32, len(notes))
    drum = np.fromiter((n.is_drum for n in notes), bool, len(notes))

    bad_times = ~(np.isfinite(start) & np.isfinite(end)) | (start < 0)
    skips["bad note times"] += int(bad_times.sum())
    start, end = np.where(bad_times, 0.0, start), np.where(bad_times, 0.0, end)
    keep = ~drum & ~bad_times
    skips["drums"] += int((drum & ~bad_times).sum())
    if data_config.programs is not None:
        low, high = data_config.programs
        filtered = keep & ((program < low) | (program > high))
        skips["program filtered"] += int(filtered.sum())
        keep &= ~filtered
    silent = keep & (velocity <= 0)
    skips["zero velocity"] += int(silent.sum())
    keep &= ~silent
    outside = keep & ((pitch < data_config.min_pitch) | (pitch > data_config.max_pitch))
    skips["out of range notes"] += int(outside.sum())
    keep &= ~outside

    melodies: list[Melody] = []
    max_steps = (None if data_config.max_bars is None
                 else data_config.max_bars * data_config.steps_per_bar)
    total_time = float(end.max())
    if np.isfinite(note_sequence.total_time):
        total_time = max(total_time, float(note_sequence.total_time))
    piece_steps = 0.0
    for index, segment in enumerate(_time_segments(note_sequence, total_time)):
        in_segment = keep & (start >= segment.start) & (start < segment.end)
        if not in_segment.any():
            continue
        steps_per_second = segment_steps_per_second(segment, data_config, skips)
        if steps_per_second is None:
            continue
        seg_start = (start[in_segment] - segment.start) * steps_per_second
        seg_end = (np.minimum(end[in_segment], segment.end) - segment.start) * steps_per_second
        piece_steps += max(float(seg_start.max()), float(seg_end.max()))
        if not piece_steps <= data_config.max_piece_steps:
            skips["too long"] += 1
            return [], skips
        q_start = np.floor(seg_start + _QUANTIZE_OFFSET).astype(np.int64)
        q_end = np.maximum(np.floor(seg_end + _QUANTIZE_OFFSET).astype(np.int64), q_start + 1)
        tokens = pitch[in_segment] - data_config.min_pitch + FIRST_PITCH_TOKEN
        seg_instrument = instrument[in_segment]
        for track in np.unique(seg_instrument):
            mask = seg_instrument == track
            found, dropped = _track_melodies(q_start[mask], q_end[mask], tokens[mask],
                                             data_config.steps_per_bar,
                                             data_config.gap_bars * data_config.steps_per_bar,
                                             max_steps)
            skips["polyphony reduced"] += dropped
            melodies.extend(Melody(t, index, bar) for t, bar in found)
    return melodies, skips


def segment_steps_per_second(segment: _Segment, data_config: DataConfig,
                             skips: collections.Counter) -> float | None:
    """Steps per second of a time segment that holds notes, or None (counted in ``skips`` as
    ``"meter N/D"`` or ``"bad tempo"``) when its meter or tempo cannot be used."""
    if segment.denominator <= 0 or Fraction(
            data_config.steps_per_quarter * 4 * segment.numerator,
            segment.denominator) != data_config.steps_per_bar:
        skips[f"meter {segment.numerator}/{segment.denominator}"] += 1
        return None
    if not (np.isfinite(segment.qpm) and segment.qpm > 0):
        skips["bad tempo"] += 1
        return None
    return segment.qpm / 60.0 * data_config.steps_per_quarter


def _time_segments(note_sequence, total_time: float) -> list[_Segment]:
    """Spans of constant tempo and meter; a change to the same value does not split."""
    events: dict[float, dict] = collections.defaultdict(dict)
    for tempo in note_sequence.tempos:
        events[max(0.0, tempo.time)]["qpm"] = tempo.qpm
    for meter in note_sequence.time_signatures:
        events[max(0.0, meter.time)]["meter"] = (meter.numerator, meter.denominator)
    qpm, meter = DEFAULT_QPM, (4, 4)
    if 0.0 in events:
        qpm = events[0.0].get("qpm", qpm)
        meter = events[0.0].get("meter", meter)
    segments = []
    seg_start = 0.0
    for time in sorted(t for t in events if t > 0.0):
        new_qpm = events[time].get("qpm", qpm)
        new_meter = events[time].get("meter", meter)
        if new_qpm == qpm and new_meter == meter:
            continue
        segments.append(_Segment(seg_start, time, qpm, *meter))
        seg_start, qpm, meter = time, new_qpm, new_meter
    segments.append(_Segment(seg_start, max(total_time, seg_start) + 1.0, qpm, *meter))
    return segments


def _track_melodies(starts: np.ndarray, ends: np.ndarray, tokens: np.ndarray, steps_per_bar: int,
                    gap_steps: int, max_steps: int | None = None):
    """Monophonic melodies of one instrument's quantised notes: ``([(tokens, start_bar)], dropped)``.

    A melody longer than ``max_steps`` (a whole number of bars) is cut there, and the next melody
    is searched after its full length, as Magenta's ``max_bars`` does.
    """
    order = np.lexsort((-tokens, starts))
    starts, ends, tokens = starts[order].tolist(), ends[order].tolist(), tokens[order].tolist()
    melodies = []
    dropped = 0
    index, count = 0, len(starts)
    while index < count:
        origin = starts[index] - starts[index] % steps_per_bar
        events: list[int] = []
        last_on = -1
        while index < count:
            on, off, token = starts[index] - origin, ends[index] - origin, tokens[index]
            if events:
                if on == last_on:
                    dropped += 1
                    index += 1
                    continue
                if on - (len(events) - 1) >= gap_steps:
                    break
            # The events end at this note's end: a note-on cuts a longer sounding note short.
            del events[off + 1:]
            events.extend([NO_EVENT] * (off + 1 - len(events)))
            events[on] = token
            events[on + 1:off] = [NO_EVENT] * (off - on - 1)
            events[off] = NOTE_OFF
            last_on = on
            index += 1
        if (len(events) - 1) % steps_per_bar == 0:
            # The last note ends on a bar line: no extra bar holding a lone NOTE_OFF (Magenta).
            events.pop()
        padded = -(-len(events) // steps_per_bar) * steps_per_bar
        events.extend([NO_EVENT] * (padded - len(events)))
        if max_steps is not None:
            del events[max_steps:]
        melodies.append((np.asarray(events, np.int16), origin // steps_per_bar))
    return melodies, dropped
