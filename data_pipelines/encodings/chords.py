"""Chord-conditioned melody (SPEC_MODELS §A3): the 90-class melody plus a 49-class chord control.

A window is ``(num_steps, 2)``: the melody tokens (output) and, per step, the triad active at
that step (control; vocabulary in ``data_pipelines.chord_inference``). The encoder reads
melody one-hot + chord one-hot (139 values for 90 classes); decoders get the chord of each
target step.

Windows: melodies are extracted per instrument exactly as for the melody encoding; each melody
step gets the chord of the piece's chord-symbol annotations when it has any, else the chord
inferred bar by bar from the other pitched instruments' notes (from the melody's own notes when
the piece has no other pitched instrument; Magenta infers from all notes). Windows of
``num_bars`` bars, hop one bar, de-duplicated per piece on melody and chords together (the same
melody under other chords is kept twice, as in Magenta). Counted skips: those of melody
extraction, ``"too short"``, ``"empty windows"``, ``"duplicates"``,
``"unreadable chord symbols"`` and ``"chords mapped to a triad"``.

Output: the melody as program 0, each chord as a chord-symbol text annotation where it changes
and, so that MIDI (which keeps no annotation) carries the chords audibly, as a block-chord
accompaniment: the root-position triad from the root in C3..B3, program 48 (string ensemble,
outside the melody programs 0-31 and the bass programs 32-39), velocity 60, struck again at
every bar. Read back from MIDI, that track gives the same chords by inference when chords change
on bar lines.
"""

from __future__ import annotations

import collections

import numpy as np

from data_pipelines.chord_inference import (NO_CHORD, NUM_CHORD_CLASSES, TRIAD_INTERVALS,
                                            annotated_chords, chord_changes_at_steps,
                                            chord_name, chord_root_quality, infer_chords,
                                            parse_progression, progression_steps)
from data_pipelines.encodings.base import CONTROL, Encoding, RollLane, Track
from data_pipelines.encodings.grid import (first_qpm, new_sequence, seconds_per_step,
                                           time_to_step)
from data_pipelines.encodings.pitch_shift import shift_notes, window_shift
from data_pipelines.extraction import _time_segments, extract_melody_spans
from data_pipelines.tokens import FIRST_PITCH_TOKEN, note_sequence_to_tokens, token_notes
from data_pipelines.windows import Window, clear_leading_note_offs

MELODY, CHORD = 0, 1
CHORD_PROGRAM = 48
CHORD_INSTRUMENT = 1
CHORD_VELOCITY = 60
CHORD_ROOT_BASE = 48  # C3
_VELOCITY = 80


def chord_voicing(token: int) -> list[int]:
    """The MIDI pitches of the block chord played for a chord token (none for no chord)."""
    if token == NO_CHORD:
        return []
    root, quality = chord_root_quality(token)
    return [CHORD_ROOT_BASE + root + interval for interval in TRIAD_INTERVALS[quality]]


def chord_spans(chords, steps_per_bar: int) -> list[tuple[int, int, int]]:
    """``(token, start, end)`` runs of one chord, split at bar lines; no-chord runs included."""
    chords = np.asarray(chords).reshape(-1)
    spans = []
    for step, token in enumerate(chords.tolist()):
        if spans and spans[-1][0] == token and step % steps_per_bar:
            spans[-1][2] = step + 1
        else:
            spans.append([token, step, step + 1])
    return [tuple(span) for span in spans]


def _only_notes(note_sequence, keep):
    """A copy of ``note_sequence`` (tempos, meters, annotations) with the notes ``keep`` picks."""
    from data_pipelines._note_seq import NoteSequence

    part = NoteSequence()
    part.CopyFrom(note_sequence)
    del part.notes[:]
    part.notes.extend(n for n in note_sequence.notes if keep(n))
    return part


def _usable(note) -> bool:
    return (not note.is_drum and note.velocity > 0 and np.isfinite(note.start_time)
            and np.isfinite(note.end_time) and note.start_time >= 0)


class ChordMelodyEncoding(Encoding):
    """A 90-class melody conditioned on a 49-class triad per step."""

    name = "melody_chords"

    @property
    def tracks(self) -> tuple[Track, ...]:
        """The melody (output) and the chord (control)."""
        return (Track("melody", self.data_config.num_classes),
                Track("chord", NUM_CHORD_CLASSES, CONTROL))

    def chord_steps(self, progression: str, num_bars: int | None = None) -> np.ndarray:
        """Per-step chord tokens for a progression such as ``"C G Am F"``, one chord per bar,
        repeated to ``num_bars`` bars (default: one bar per chord, at least a window)."""
        chords = parse_progression(progression)
        if num_bars is None:
            num_bars = max(len(chords), self.data_config.num_bars)
        return progression_steps(chords, self.data_config.steps_per_bar, num_bars)

    def _chords(self, changes, source_notes, start: float, steps_per_second: float,
                origin: int, length: int) -> np.ndarray:
        """Per-step chords of ``length`` steps from step ``origin`` of a grid starting at time
        ``start``: the annotated ``changes`` when there are any, else inferred from notes."""
        def step(time):
            return time_to_step(time - start, steps_per_second) - origin

        if changes:
            return chord_changes_at_steps([(step(t), token) for t, token in changes], length)
        notes = [(n.pitch, step(n.start_time), max(step(n.end_time), step(n.start_time) + 1))
                 for n in source_notes]
        return infer_chords(notes, length, self.data_config.steps_per_bar)

    def note_sequence_windows(self, note_sequence, source: str = ""
                              ) -> tuple[list[Window], collections.Counter]:
        """Every distinct (melody, chords) window of the piece, and the skips."""
        config = self.data_config
        spb = config.steps_per_bar
        skips: collections.Counter = collections.Counter()
        if not note_sequence.notes:
            skips["no notes"] += 1
            return [], skips
        changes = annotated_chords(note_sequence, skips)
        pitched = [n for n in note_sequence.notes if _usable(n)]
        total_time = max([n.end_time for n in pitched] + [note_sequence.total_time, 0.0])
        segments = _time_segments(note_sequence, total_time)
        windows, seen = [], set()
        melody_index = 0
        for instrument in sorted({n.instrument for n in note_sequence.notes}):
            melodies, found = extract_melody_spans(
                _only_notes(note_sequence, lambda n, kept=instrument: n.instrument == kept), config)
            skips.update(found)
            others = [n for n in pitched if n.instrument != instrument]
            source_notes = others or [n for n in pitched if n.instrument == instrument]
            for melody in melodies:
                segment = segments[melody.segment]
                steps_per_second = segment.qpm / 60.0 * config.steps_per_quarter
                chords = self._chords(changes, source_notes, segment.start, steps_per_second,
                                      melody.start_bar * spb, len(melody.tokens))
                bars = len(melody.tokens) // spb
                if bars < config.num_bars:
                    skips["too short"] += 1
                    melody_index += 1
                    continue
                for bar in range(bars - config.num_bars + 1):
                    cut = slice(bar * spb, bar * spb + config.num_steps)
                    tokens = clear_leading_note_offs(melody.tokens[cut])
                    if config.drop_empty_windows and not (tokens >= FIRST_PITCH_TOKEN).any():
                        skips["empty windows"] += 1
                        continue
                    window = np.stack([tokens, chords[cut]], axis=1).astype(np.int16)
                    if window.tobytes() in seen:
                        skips["duplicates"] += 1
                        continue
                    seen.add(window.tobytes())
                    windows.append(Window(source, melody_index, melody.start_bar + bar, window))
                melody_index += 1
        return windows, skips

    def to_note_sequence(self, tokens: np.ndarray, qpm: float = 120.0):
        """A NoteSequence of the melody (program 0), chord-symbol annotations and a block-chord
        accompaniment (program 48)."""
        from data_pipelines._note_seq import NoteSequence

        tokens = np.asarray(tokens).reshape(-1, 2)
        sequence = new_sequence(self.data_config, qpm, len(tokens))
        seconds = seconds_per_step(self.data_config, qpm)
        for pitch, start, end in token_notes(tokens[:, MELODY], self.data_config):
            sequence.notes.add(pitch=pitch, velocity=_VELOCITY, program=0, instrument=0,
                               start_time=start * seconds, end_time=end * seconds)
        previous = NO_CHORD
        for token, start, end in chord_spans(tokens[:, CHORD], self.data_config.steps_per_bar):
            if token != previous:
                sequence.text_annotations.add(
                    time=start * seconds, text=chord_name(token),
                    annotation_type=NoteSequence.TextAnnotation.CHORD_SYMBOL)
                previous = token
            for pitch in chord_voicing(token):
                sequence.notes.add(pitch=pitch, velocity=CHORD_VELOCITY, program=CHORD_PROGRAM,
                                   instrument=CHORD_INSTRUMENT, start_time=start * seconds,
                                   end_time=end * seconds)
        return sequence

    def from_note_sequence(self, note_sequence, num_steps: int | None = None) -> np.ndarray:
        """``(num_steps, 2)`` tokens of a NoteSequence from time 0 at its first tempo.

        The melody is the lowest-numbered instrument with pitched notes in the config's
        programs (made monophonic as ``note_sequence_to_tokens`` does); chords come from the
        chord-symbol annotations, else are inferred from the other pitched instruments (the
        melody itself when there is none).
        """
        config = self.data_config
        num_steps = config.num_steps if num_steps is None else num_steps
        pitched = [n for n in note_sequence.notes if _usable(n)]
        low, high = config.programs if config.programs is not None else (0, 127)
        candidates = sorted({n.instrument for n in pitched if low <= n.program <= high})
        melody = candidates[0] if candidates else None
        tokens = note_sequence_to_tokens(
            _only_notes(note_sequence, lambda n: n.instrument == melody), config, num_steps)
        others = [n for n in pitched if n.instrument != melody]
        steps_per_second = first_qpm(note_sequence) / 60.0 * config.steps_per_quarter
        chords = self._chords(annotated_chords(note_sequence),
                              others or [n for n in pitched if n.instrument == melody],
                              0.0, steps_per_second, 0, num_steps)
        return np.stack([tokens, chords], axis=1).astype(np.int16)

    def roll_lanes(self, tokens: np.ndarray) -> list[RollLane]:
        """The melody lane and a chords lane drawing each block chord's pitches, labelled with
        the chord's name at every span (each bar and each change)."""
        tokens = np.asarray(tokens).reshape(-1, 2)
        spans = chord_spans(tokens[:, CHORD], self.data_config.steps_per_bar)
        chord_notes = [(pitch, start, end) for token, start, end in spans
                       for pitch in chord_voicing(token)]
        labels = tuple((start, chord_name(token)) for token, start, _ in spans)
        return [RollLane("melody", token_notes(tokens[:, MELODY], self.data_config)),
                RollLane("chords", chord_notes, labels=labels)]

    def transpose(self, tokens, fraction, low: int, high: int):
        """Shift each window's melody note-ons by a shift valid for the melody and its chord
        roots by the same amount (chords wrap around the octave; no chord stays)."""
        import tensorflow as tf

        melody, chords = tf.unstack(tf.convert_to_tensor(tokens), num=2, axis=-1)
        shift = window_shift([melody], fraction, low, high, self.data_config.num_classes)
        offset = chords - 1
        moved = 1 + offset // 12 * 12 + (offset % 12 + shift[:, tf.newaxis]) % 12
        return tf.stack([shift_notes(melody, shift),
                         tf.where(chords == NO_CHORD, chords, moved)], axis=-1)
