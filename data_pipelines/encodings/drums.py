"""Magenta's drum encoding (SPEC_MODELS §A1): 9 drum classes, one 512-class token per step.

A step's token is the bitmask of the classes hit at that step (bit 0 kick ... bit 8 ride; 0 is
silence; two pitches of one class count once). Pitches in no class are ignored (counted as
``"unknown drum pitches"``; Magenta keeps them as silent events, so they can still bridge a gap).
The encoder reads Magenta's roll input: the 9 bits in class order plus a bit that is 1 only at
silent steps (10 values). Decoding plays each class as its first pitch, velocity 80, one step
long, on the drum channel (``is_drum``, MIDI channel 10).

Drum tracks (as Magenta's drum-track extraction): the drum notes of all drum instruments of a
time segment together (onsets only); a track starts on the bar of its first hit and ends where
``gap_bars`` silent bars follow a hit; it is padded to whole bars and cut after ``max_bars`` bars
(the next track is searched after its full length). Windows of ``num_bars`` bars, hop one bar,
de-duplicated per piece; a window without a hit is dropped unless ``drop_empty_windows`` is off
(Magenta keeps it). Counted skips: ``"no drums"`` (pieces), ``"unknown drum pitches"``,
``"meter N/D"``, ``"too short"`` (tracks), ``"duplicates"``, ``"empty windows"`` and those of
``data_pipelines.encodings.grid``.
"""

from __future__ import annotations

import collections

import numpy as np

from data_pipelines.encodings.base import Encoding, RollLane, Track
from data_pipelines.encodings.grid import (first_qpm, new_sequence, note_table,
                                           quantized_segments, seconds_per_step, time_to_step)
from data_pipelines.windows import Window

DRUM_CLASS_NAMES = ("kick", "snare", "closed hi-hat", "open hi-hat", "low tom", "mid tom",
                    "high tom", "crash", "ride")
DRUM_CLASS_PITCHES = (
    (36, 35),
    (38, 27, 28, 31, 32, 33, 34, 37, 39, 40, 56, 65, 66, 75, 85),
    (42, 44, 54, 68, 69, 70, 71, 73, 78, 80, 22),
    (46, 67, 72, 74, 79, 81, 26),
    (45, 29, 41, 43, 61, 64, 84),
    (48, 47, 60, 63, 77, 86, 87),
    (50, 30, 62, 76, 83),
    (49, 52, 55, 57, 58),
    (51, 53, 59, 82),
)
NUM_DRUM_CLASSES = len(DRUM_CLASS_PITCHES)
NUM_DRUM_TOKENS = 2 ** NUM_DRUM_CLASSES
DRUM_VELOCITY = 80
DRUM_INSTRUMENT = 9
# MIDI pitch -> drum class, -1 for pitches in no class.
_PITCH_CLASS = np.full(128, -1, np.int64)
for _index, _pitches in enumerate(DRUM_CLASS_PITCHES):
    _PITCH_CLASS[list(_pitches)] = _index


def drum_class(pitch: int) -> int:
    """The drum class of a General MIDI drum pitch, -1 when it is in none."""
    return int(drum_classes(pitch))


def drum_classes(pitches: np.ndarray) -> np.ndarray:
    """The drum class of each pitch in an array, -1 for pitches in no class."""
    pitches = np.asarray(pitches)
    return np.where((pitches >= 0) & (pitches < 128), _PITCH_CLASS[np.clip(pitches, 0, 127)], -1)


def hit_classes(token: int) -> list[int]:
    """The drum classes hit by one 512-class token, in class order."""
    return [k for k in range(NUM_DRUM_CLASSES) if int(token) >> k & 1]


def drum_notes(tokens) -> list[tuple[int, int]]:
    """``(drum class, step)`` of every hit in a drum token sequence, in time order."""
    values = np.asarray(tokens).reshape(-1)
    if values.size and (values.min() < 0 or values.max() >= NUM_DRUM_TOKENS):
        raise ValueError(f"drum tokens must lie in 0..{NUM_DRUM_TOKENS - 1}")
    return [(k, step) for step in np.flatnonzero(values).tolist()
            for k in hit_classes(values[step])]


def add_drum_notes(sequence, tokens, seconds: float, instrument: int = DRUM_INSTRUMENT) -> None:
    """Append the hits of drum ``tokens`` to a NoteSequence (``seconds`` per step)."""
    for k, step in drum_notes(tokens):
        sequence.notes.add(pitch=DRUM_CLASS_PITCHES[k][0], velocity=DRUM_VELOCITY,
                           instrument=instrument, program=0, is_drum=True,
                           start_time=step * seconds, end_time=(step + 1) * seconds)


def hits_to_tokens(steps: np.ndarray, classes: np.ndarray, num_steps: int) -> np.ndarray:
    """A drum token array with class ``classes[i]`` hit at ``steps[i]`` (steps outside
    ``0..num_steps - 1`` are dropped)."""
    tokens = np.zeros(num_steps, np.int16)
    inside = (steps >= 0) & (steps < num_steps)
    np.bitwise_or.at(tokens, steps[inside], (1 << classes[inside]).astype(np.int16))
    return tokens


def split_drum_tracks(steps: np.ndarray, classes: np.ndarray, steps_per_bar: int,
                      gap_steps: int, max_steps: int | None) -> list[tuple[np.ndarray, int]]:
    """Drum tracks of one segment's hits: ``[(tokens, start_bar)]``, each bar-aligned, ended by
    ``gap_steps`` silent steps after a hit, padded to whole bars and cut at ``max_steps``."""
    order = np.argsort(steps, kind="stable")
    steps, classes = steps[order], classes[order]
    tracks = []
    first = 0
    while first < len(steps):
        last = first + 1
        while last < len(steps) and steps[last] - (steps[last - 1] + 1) < gap_steps:
            last += 1
        origin = steps[first] - steps[first] % steps_per_bar
        length = -(-(steps[last - 1] + 1 - origin) // steps_per_bar) * steps_per_bar
        if max_steps is not None:
            length = min(length, max_steps)
        tracks.append((hits_to_tokens(steps[first:last] - origin, classes[first:last], length),
                       int(origin // steps_per_bar)))
        first = last
    return tracks


class DrumsEncoding(Encoding):
    """Magenta's 9-class drums: a 512-class token per step, a 10-value roll as encoder input."""

    name = "drums"

    @property
    def tracks(self) -> tuple[Track, ...]:
        """One output track of 512 classes."""
        return (Track("drums", NUM_DRUM_TOKENS),)

    @property
    def encoder_input_depth(self) -> int:
        """Magenta's roll input: 9 class bits and a no-hit bit."""
        return NUM_DRUM_CLASSES + 1

    def encoder_inputs(self, tokens):
        """The roll input ``[..., num_steps, 10]`` (float32) of drum tokens ``[..., num_steps]``."""
        import tensorflow as tf

        tokens = tf.cast(tokens, tf.int32)[..., tf.newaxis]
        bits = tf.bitwise.bitwise_and(tf.bitwise.right_shift(tokens, tf.range(NUM_DRUM_CLASSES)), 1)
        return tf.concat([tf.cast(bits, tf.float32), tf.cast(tokens == 0, tf.float32)], axis=-1)

    def drum_tracks(self, note_sequence) -> tuple[list[tuple[np.ndarray, int, int]],
                                                  collections.Counter]:
        """Every drum track of a piece as ``(tokens, segment index, start bar)``, and the skips."""
        config = self.data_config
        skips: collections.Counter = collections.Counter()
        table = note_table(note_sequence, skips)
        drums = table.usable & table.is_drum
        if not drums.any():
            skips["no drums"] += 1
            return [], skips
        classes = drum_classes(table.pitch)
        skips["unknown drum pitches"] += int((drums & (classes < 0)).sum())
        drums &= classes >= 0
        max_steps = None if config.max_bars is None else config.max_bars * config.steps_per_bar
        tracks = []
        for segment in quantized_segments(note_sequence, table, drums, config, skips):
            for tokens, bar in split_drum_tracks(segment.start, classes[segment.notes],
                                                 config.steps_per_bar,
                                                 config.gap_bars * config.steps_per_bar,
                                                 max_steps):
                tracks.append((tokens, segment.index, bar))
        return tracks, skips

    def note_sequence_windows(self, note_sequence, source: str = ""
                              ) -> tuple[list[Window], collections.Counter]:
        """Every distinct ``num_bars`` window of the piece's drum tracks, and the skips."""
        config = self.data_config
        tracks, skips = self.drum_tracks(note_sequence)
        windows, seen = [], set()
        for track_index, (tokens, _, start_bar) in enumerate(tracks):
            bars = len(tokens) // config.steps_per_bar
            if bars < config.num_bars:
                skips["too short"] += 1
                continue
            for bar in range(bars - config.num_bars + 1):
                window = tokens[bar * config.steps_per_bar:][:config.num_steps]
                if config.drop_empty_windows and not window.any():
                    skips["empty windows"] += 1
                    continue
                if window.tobytes() in seen:
                    skips["duplicates"] += 1
                    continue
                seen.add(window.tobytes())
                windows.append(Window(source, track_index, start_bar + bar, window))
        return windows, skips

    def to_note_sequence(self, tokens: np.ndarray, qpm: float = 120.0):
        """A NoteSequence playing drum tokens on the drum channel."""
        tokens = np.asarray(tokens).reshape(-1)
        sequence = new_sequence(self.data_config, qpm, len(tokens))
        add_drum_notes(sequence, tokens, seconds_per_step(self.data_config, qpm))
        return sequence

    def from_note_sequence(self, note_sequence, num_steps: int | None = None) -> np.ndarray:
        """The drum tokens of a NoteSequence from time 0 at its first tempo (drum notes of every
        drum instrument; pitches in no class ignored), truncated or padded to ``num_steps``."""
        num_steps = self.data_config.num_steps if num_steps is None else num_steps
        steps_per_second = first_qpm(note_sequence) / 60.0 * self.data_config.steps_per_quarter
        hits = [(time_to_step(n.start_time, steps_per_second), drum_class(n.pitch))
                for n in note_sequence.notes if n.is_drum and n.velocity > 0]
        hits = [(step, k) for step, k in hits if k >= 0]
        steps = np.array([step for step, _ in hits], np.int64)
        classes = np.array([k for _, k in hits], np.int64)
        return hits_to_tokens(steps, classes, num_steps)

    def roll_lanes(self, tokens: np.ndarray) -> list[RollLane]:
        """One drum-grid lane whose rows are the 9 classes."""
        return [drum_lane(tokens)]


def drum_lane(tokens, name: str = "drums") -> RollLane:
    """A drum-grid lane of drum tokens: one step-long cell per hit, rows named by class."""
    return RollLane(name, [(k, step, step + 1) for k, step in drum_notes(tokens)],
                    row_names=DRUM_CLASS_NAMES)
