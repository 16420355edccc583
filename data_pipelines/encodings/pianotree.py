"""PianoTree's polyphonic encoding (SPEC_MODELS §C): per 16th-note step, the notes that start
there, sorted by pitch, each with its pitch and duration in steps.

A window is an int array ``[num_steps, max_notes, 2]``: column 0 the pitch (0..127, ``PAD`` =
128 for an unused slot), column 1 the duration minus one (0..31, 0 in unused slots). Notes longer
than 32 steps are cut to 32 (counted as ``"long notes cut"``); a note that outlasts its window
keeps its duration (up to 32 steps) and plays past the window's end. Steps with more than
``max_notes`` onsets keep the lowest ``max_notes`` pitches and count the rest as ``"onsets over
max_notes"`` (never an index error); two onsets of one pitch at one step count once.

``max_notes`` is 14 (PianoTree's limit: 16 slots less SOS and EOS); the data section has no field
for it yet. MusicXML and MIDI sources alike: segments whose meter is not 16 steps per bar (the
3/4 chorales, pickup bars) are skipped and counted as ``"meter N/D"``.

Every non-drum note of the piece is used (``data.programs`` filters by program when set).
Windows of ``num_bars`` bars, hop one bar, de-duplicated per piece; windows without an onset
are dropped (``"empty windows"``). Other skips are those of ``data_pipelines.encodings.grid``.
"""

from __future__ import annotations

import collections

import numpy as np

from data_pipelines.encodings.base import Encoding, RollLane, Track
from data_pipelines.encodings.grid import (first_qpm, new_sequence, note_table,
                                           quantized_segments, seconds_per_step, time_to_step)
from data_pipelines.windows import Window

PAD = 128
SOS, EOS = 128, 129  # pitch classes of the networks' note vectors (PAD has no class)
NOTE_CLASSES = 130
MAX_DURATION = 32
DURATION_BITS = 5
DEFAULT_MAX_NOTES = 14
VELOCITY = 80


def max_notes_of(data_config) -> int:
    """The per-step onset limit of a data config (14: the data section has no field for it)."""
    del data_config
    return DEFAULT_MAX_NOTES


def notes_to_tree(starts, pitches, durations, num_steps: int, max_notes: int,
                  skips: collections.Counter | None = None) -> np.ndarray:
    """A tree ``[num_steps, max_notes, 2]`` of notes given by step, pitch and duration (steps);
    onsets outside ``0..num_steps - 1`` are dropped; over-full steps counted in ``skips``."""
    tree = np.zeros((num_steps, max_notes, 2), np.int16)
    tree[..., 0] = PAD
    by_step: dict[int, dict[int, int]] = collections.defaultdict(dict)
    for step, pitch, duration in zip(np.asarray(starts).tolist(), np.asarray(pitches).tolist(),
                                     np.asarray(durations).tolist()):
        if 0 <= step < num_steps and 0 <= pitch < 128:
            by_step[step][pitch] = max(by_step[step].get(pitch, 0), int(duration))
    for step, notes in by_step.items():
        ordered = sorted(notes.items())
        if len(ordered) > max_notes and skips is not None:
            skips["onsets over max_notes"] += len(ordered) - max_notes
        for slot, (pitch, duration) in enumerate(ordered[:max_notes]):
            if duration > MAX_DURATION and skips is not None:
                skips["long notes cut"] += 1
            tree[step, slot] = (pitch, min(max(duration, 1), MAX_DURATION) - 1)
    return tree


def tree_notes(tree) -> list[tuple[int, int, int]]:
    """``(pitch, start_step, end_step)`` of every note of a tree, in time then pitch order."""
    tree = np.asarray(tree)
    steps, slots = np.nonzero(tree[..., 0] < PAD)
    return [(int(tree[s, k, 0]), int(s), int(s) + int(tree[s, k, 1]) + 1)
            for s, k in zip(steps.tolist(), slots.tolist())]


def playable_notes(tree) -> list[tuple[int, int, int]]:
    """:func:`tree_notes` with each note cut where its pitch starts again."""
    notes = sorted(tree_notes(tree))
    return [(pitch, start, min(end, following[1]) if following[0] == pitch else end)
            for (pitch, start, end), following in zip(notes, notes[1:] + [(-1, 0, 0)])]


class PianoTreeEncoding(Encoding):
    """Polyphony as per-step onset lists of (pitch, duration - 1)."""

    name = "pianotree"

    @property
    def max_notes(self) -> int:
        """Onset slots per step."""
        return max_notes_of(self.data_config)

    @property
    def tracks(self) -> tuple[Track, ...]:
        """Pitch (128 + PAD) and duration - 1 (32 classes)."""
        return (Track("pitch", PAD + 1), Track("duration", MAX_DURATION))

    @property
    def window_shape(self) -> tuple[int, ...]:
        """``(num_steps, max_notes, 2)``."""
        return (self.data_config.num_steps, self.max_notes, 2)

    @property
    def encoder_input_depth(self) -> int:
        """PianoTree's note vector: a 130-way pitch one-hot (128 pitches, SOS, EOS) and 5
        duration bits."""
        return NOTE_CLASSES + DURATION_BITS

    def encoder_inputs(self, tokens):
        """``[..., steps, max_notes, 135]`` float32 note vectors (all zeros in PAD slots)."""
        import tensorflow as tf

        tokens = tf.cast(tokens, tf.int32)
        pitch = tf.one_hot(tf.where(tokens[..., 0] < PAD, tokens[..., 0], -1), NOTE_CLASSES)
        bits = duration_bits(tokens[..., 1])
        present = tf.cast(tokens[..., 0] < PAD, tf.float32)[..., tf.newaxis]
        return tf.concat([pitch, bits * present], axis=-1)

    def transpose(self, tokens, fraction, low: int, high: int):
        """Shift each window by one semitone count among those keeping its notes in 0..127."""
        import tensorflow as tf

        pitch = tf.cast(tokens[..., 0], tf.int32)
        present = pitch < PAD
        flat = tf.reshape(pitch, [tf.shape(pitch)[0], -1])
        flat_present = tf.reshape(present, tf.shape(flat))
        lowest = tf.reduce_min(tf.where(flat_present, flat, 127), -1)
        highest = tf.reduce_max(tf.where(flat_present, flat, 0), -1)
        valid_low = tf.maximum(low, -lowest)
        valid_high = tf.minimum(high, 127 - highest)
        choices = valid_high - valid_low + 1
        shift = valid_low + tf.cast(tf.floor(fraction * tf.cast(choices, fraction.dtype)),
                                    tf.int32)
        shift = tf.where(choices > 0, tf.minimum(shift, valid_high), 0)
        shifted = tf.where(present, pitch + shift[:, None, None], pitch)
        return tf.stack([tf.cast(shifted, tokens.dtype), tokens[..., 1]], axis=-1)

    def _piece_notes(self, note_sequence, skips):
        config = self.data_config
        table = note_table(note_sequence, skips)
        keep = table.usable & ~table.is_drum
        if config.programs is not None:
            low, high = config.programs
            filtered = keep & ((table.program < low) | (table.program > high))
            skips["program filtered"] += int(filtered.sum())
            keep &= ~filtered
        skips["out of range notes"] += int((keep & ((table.pitch < 0) | (table.pitch > 127))).sum())
        keep &= (table.pitch >= 0) & (table.pitch <= 127)
        if not keep.any():
            skips["no notes"] += 1
            return table, []
        return table, quantized_segments(note_sequence, table, keep, config, skips)

    def note_sequence_windows(self, note_sequence, source: str = ""
                              ) -> tuple[list[Window], collections.Counter]:
        """Every distinct window of every time segment of the piece, and the skips."""
        config = self.data_config
        skips: collections.Counter = collections.Counter()
        table, segments = self._piece_notes(note_sequence, skips)
        windows, seen = [], set()
        for segment in segments:
            steps = int(segment.end.max())
            bars = -(-steps // config.steps_per_bar)
            if bars < config.num_bars:
                skips["too short"] += 1
                continue
            tree = notes_to_tree(segment.start, table.pitch[segment.notes],
                                 segment.end - segment.start, bars * config.steps_per_bar,
                                 self.max_notes, skips)
            for bar in range(bars - config.num_bars + 1):
                window = tree[bar * config.steps_per_bar:][:config.num_steps]
                if config.drop_empty_windows and not (window[..., 0] < PAD).any():
                    skips["empty windows"] += 1
                    continue
                if window.tobytes() in seen:
                    skips["duplicates"] += 1
                    continue
                seen.add(window.tobytes())
                windows.append(Window(source, segment.index, bar, window))
        return windows, skips

    def to_note_sequence(self, tokens: np.ndarray, qpm: float = 120.0):
        """A NoteSequence playing a tree (any whole number of steps) on one piano track; a note
        still sounding when its pitch starts again ends there (MIDI cannot overlap a pitch)."""
        tokens = np.asarray(tokens).reshape(-1, self.max_notes, 2)
        sequence = new_sequence(self.data_config, qpm, len(tokens))
        seconds = seconds_per_step(self.data_config, qpm)
        for pitch, start, end in playable_notes(tokens):
            sequence.notes.add(pitch=pitch, velocity=VELOCITY, instrument=0, program=0,
                               start_time=start * seconds, end_time=end * seconds)
        sequence.total_time = max(sequence.total_time,
                                  max((n.end_time for n in sequence.notes), default=0.0))
        return sequence

    def from_note_sequence(self, note_sequence, num_steps: int | None = None) -> np.ndarray:
        """The tree of a NoteSequence from time 0 at its first tempo (non-drum notes)."""
        num_steps = self.data_config.num_steps if num_steps is None else num_steps
        steps_per_second = first_qpm(note_sequence) / 60.0 * self.data_config.steps_per_quarter
        notes = [n for n in note_sequence.notes if not n.is_drum and n.velocity > 0]
        starts = [time_to_step(n.start_time, steps_per_second) for n in notes]
        ends = [max(time_to_step(n.end_time, steps_per_second), s + 1)
                for n, s in zip(notes, starts)]
        return notes_to_tree(starts, [n.pitch for n in notes],
                             [e - s for s, e in zip(starts, ends)], num_steps, self.max_notes)

    def roll_lanes(self, tokens: np.ndarray) -> list[RollLane]:
        """One piano lane with every note."""
        tokens = np.asarray(tokens).reshape(-1, self.max_notes, 2)
        return [RollLane("piano", tree_notes(tokens))]


def duration_bits(durations):
    """The 5 bits (MSB first, float32 ``[..., 5]``) of ``duration - 1`` values (tf ops)."""
    import tensorflow as tf

    values = tf.cast(durations, tf.int32)[..., tf.newaxis]
    shifts = tf.range(DURATION_BITS - 1, -1, -1)
    return tf.cast(tf.bitwise.bitwise_and(tf.bitwise.right_shift(values, shifts), 1), tf.float32)
