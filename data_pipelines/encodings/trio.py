"""Magenta's trio encoding (SPEC_MODELS §A2): melody, bass and drums, one token column each.

A window is ``(num_steps, 3)``: melody (90 classes), bass (90 classes, the melody vocabulary)
and drums (512 classes, ``data_pipelines.encodings.drums``); the encoder reads the three
one-hots concatenated (692 values). Decoding writes melody as program 0, bass as program 33 and
drums on the drum channel.

Track typing: a non-drum instrument whose notes have programs 0-31 is a melody track, 32-39 a
bass track (notes of other programs are counted as ``"program filtered"``), and every drum
instrument a drums track; every melody x bass x drums combination is tried. Each track is made
monophonic over its whole time segment with the melody rules (highest of simultaneous note-ons,
a note-on cuts the sounding note; ``"polyphony reduced"``, ``"out of range notes"`` counted),
without splitting at silences. A bar is full when all three tracks have a note sounding (drums:
a hit) in it; runs of full bars with empty runs of at most ``gap_bars`` bars between them are
kept, and every ``num_bars`` window inside a kept run (hop one bar) is a window; windows are
de-duplicated per piece over all combinations.

Simplifications against Magenta: the piece is split at tempo and meter changes like every other
encoding (Magenta quantises the whole piece and rejects one with such changes); ``max_bars`` cuts
each kept run rather than the whole piece; the limit of 5 examples per piece is the reader's
``max_windows_per_piece``. Counted skips: ``"no melody track"``, ``"no bass track"``,
``"no drums track"`` (pieces), ``"too short"`` (kept runs), ``"duplicates"`` and those of
``data_pipelines.encodings.grid``.
"""

from __future__ import annotations

import collections
import itertools

import numpy as np

from data_pipelines.encodings.base import Encoding, RollLane, Track
from data_pipelines.encodings.drums import (DRUM_INSTRUMENT, NUM_DRUM_TOKENS, DrumsEncoding,
                                            add_drum_notes, drum_classes, drum_lane,
                                            hits_to_tokens)
from data_pipelines.encodings.grid import (first_qpm, new_sequence, note_table,
                                           quantized_segments, seconds_per_step)
from data_pipelines.encodings.pitch_shift import shift_notes, window_shift
from data_pipelines.extraction import _track_melodies
from data_pipelines.tokens import FIRST_PITCH_TOKEN, note_sequence_to_tokens, token_notes
from data_pipelines.windows import Window, clear_leading_note_offs

MELODY_PROGRAMS = (0, 31)
BASS_PROGRAMS = (32, 39)
MELODY_OUTPUT_PROGRAM = 0
BASS_OUTPUT_PROGRAM = 33
MELODY, BASS, DRUMS = 0, 1, 2
_VELOCITY = 80


def sounding_steps(tokens: np.ndarray) -> np.ndarray:
    """A bool per step of 90-class tokens: whether a note sounds there."""
    events = np.flatnonzero(tokens != 0)
    state = np.zeros(len(tokens), bool)
    for index, step in enumerate(events):
        end = events[index + 1] if index + 1 < len(events) else len(tokens)
        state[step:end] = tokens[step] >= FIRST_PITCH_TOKEN
    return state


def kept_runs(full: np.ndarray, gap_bars: int) -> list[tuple[int, int]]:
    """``[(first bar, end bar)]`` spans of full bars, bridging empty runs of <= ``gap_bars``."""
    bars = np.flatnonzero(full)
    runs = []
    for bar in bars.tolist():
        if runs and bar - runs[-1][1] <= gap_bars:
            runs[-1][1] = bar + 1
        else:
            runs.append([bar, bar + 1])
    return [tuple(run) for run in runs]


def _in_programs(program: np.ndarray, programs: tuple[int, int]) -> np.ndarray:
    return (program >= programs[0]) & (program <= programs[1])


class TrioEncoding(Encoding):
    """Melody (programs 0-31), bass (32-39) and drums, as three output token columns."""

    name = "trio"

    @property
    def tracks(self) -> tuple[Track, ...]:
        """Melody and bass of the melody vocabulary, drums of 512 classes."""
        classes = self.data_config.num_classes
        return (Track("melody", classes), Track("bass", classes), Track("drums", NUM_DRUM_TOKENS))

    def _monophonic(self, start, end, pitch, length: int, skips) -> np.ndarray:
        """One instrument's notes as 90-class tokens over ``length`` steps (no gap splitting)."""
        config = self.data_config
        inside = (pitch >= config.min_pitch) & (pitch <= config.max_pitch)
        skips["out of range notes"] += int((~inside).sum())
        tokens = np.zeros(length, np.int16)
        if not inside.any():
            return tokens
        melodies, dropped = _track_melodies(start[inside], end[inside],
                                            pitch[inside] - config.min_pitch + FIRST_PITCH_TOKEN,
                                            config.steps_per_bar, length + 1)
        skips["polyphony reduced"] += dropped
        # One melody (no gap ends it); its last note's NOTE_OFF is dropped when it falls on a
        # bar line, which is harmless: windows end at the last bar where the melody sounds.
        for melody, bar in melodies:
            origin = bar * config.steps_per_bar
            tokens[origin:origin + len(melody)] = melody
        return tokens

    def _segment_tracks(self, table, segment, masks, classes, skips) -> list[dict]:
        """Per kind (melody, bass, drums), each track of a segment as tokens over the whole
        segment; pitched tracks are keyed by (instrument, program), drum tracks by instrument."""
        notes = segment.notes
        length = -(-int(segment.end.max()) // self.data_config.steps_per_bar)
        length *= self.data_config.steps_per_bar
        instrument, program = table.instrument[notes], table.program[notes]
        columns: list[dict] = [{}, {}, {}]
        for kind in (MELODY, BASS):
            mask = masks[kind][notes]
            for key in sorted(set(zip(instrument[mask].tolist(), program[mask].tolist()))):
                own = mask & (instrument == key[0]) & (program == key[1])
                columns[kind][key] = self._monophonic(segment.start[own], segment.end[own],
                                                      table.pitch[notes][own], length, skips)
        mask = masks[DRUMS][notes]
        for key in sorted(set(instrument[mask].tolist())):
            own = mask & (instrument == key)
            columns[DRUMS][key] = hits_to_tokens(segment.start[own], classes[notes][own], length)
        return columns

    def note_sequence_windows(self, note_sequence, source: str = ""
                              ) -> tuple[list[Window], collections.Counter]:
        """Every distinct trio window of the piece, and the skips."""
        config = self.data_config
        spb = config.steps_per_bar
        skips: collections.Counter = collections.Counter()
        table = note_table(note_sequence, skips)
        if not table.usable.any():
            skips["no notes"] += 1
            return [], skips
        pitched = table.usable & ~table.is_drum
        melody = pitched & _in_programs(table.program, MELODY_PROGRAMS)
        bass = pitched & _in_programs(table.program, BASS_PROGRAMS)
        skips["program filtered"] += int((pitched & ~melody & ~bass).sum())
        classes = drum_classes(table.pitch)
        drums = table.usable & table.is_drum
        skips["unknown drum pitches"] += int((drums & (classes < 0)).sum())
        drums &= classes >= 0
        kinds = {"no melody track": melody, "no bass track": bass, "no drums track": drums}
        missing = [name for name, mask in kinds.items() if not mask.any()]
        for name in missing:
            skips[name] += 1
        if missing:
            return [], skips
        max_bars = config.max_bars
        windows, seen = [], set()
        for segment in quantized_segments(note_sequence, table, melody | bass | drums,
                                          config, skips):
            columns = self._segment_tracks(table, segment, (melody, bass, drums), classes, skips)
            present = [{key: (sounding_steps(t) if kind != DRUMS else t != 0)
                        .reshape(-1, spb).any(axis=1) for key, t in column.items()}
                       for kind, column in enumerate(columns)]
            for combo_index, keys in enumerate(itertools.product(*columns)):
                full = present[MELODY][keys[0]] & present[BASS][keys[1]] & present[DRUMS][keys[2]]
                stacked = np.stack([columns[k][key] for k, key in enumerate(keys)], axis=1)
                for first, end in kept_runs(full, config.gap_bars):
                    if max_bars is not None:
                        end = min(end, first + max_bars)
                    if end - first < config.num_bars:
                        skips["too short"] += 1
                        continue
                    for bar in range(first, end - config.num_bars + 1):
                        window = stacked[bar * spb:bar * spb + config.num_steps].copy()
                        window[:, MELODY] = clear_leading_note_offs(window[:, MELODY])
                        window[:, BASS] = clear_leading_note_offs(window[:, BASS])
                        if window.tobytes() in seen:
                            skips["duplicates"] += 1
                            continue
                        seen.add(window.tobytes())
                        windows.append(Window(source, combo_index, bar, window))
        return windows, skips

    def to_note_sequence(self, tokens: np.ndarray, qpm: float = 120.0):
        """A three-instrument NoteSequence: melody (program 0), bass (33), drums."""
        tokens = np.asarray(tokens).reshape(-1, 3)
        sequence = new_sequence(self.data_config, qpm, len(tokens))
        seconds = seconds_per_step(self.data_config, qpm)
        for column, program in ((MELODY, MELODY_OUTPUT_PROGRAM), (BASS, BASS_OUTPUT_PROGRAM)):
            for pitch, start, end in token_notes(tokens[:, column], self.data_config):
                sequence.notes.add(pitch=pitch, velocity=_VELOCITY, program=program,
                                   instrument=column, start_time=start * seconds,
                                   end_time=end * seconds)
        add_drum_notes(sequence, tokens[:, DRUMS], seconds, DRUM_INSTRUMENT)
        return sequence

    def from_note_sequence(self, note_sequence, num_steps: int | None = None) -> np.ndarray:
        """``(num_steps, 3)`` tokens of a NoteSequence from time 0: melody from the notes of
        programs 0-31, bass from 32-39 (each monophonic, highest note first), drums."""
        from data_pipelines._note_seq import NoteSequence

        num_steps = self.data_config.num_steps if num_steps is None else num_steps
        columns = []
        for low, high in (MELODY_PROGRAMS, BASS_PROGRAMS):
            part = NoteSequence()
            part.tempos.add(qpm=first_qpm(note_sequence))
            part.notes.extend(n for n in note_sequence.notes
                              if not n.is_drum and low <= n.program <= high)
            columns.append(note_sequence_to_tokens(part, self.data_config, num_steps))
        columns.append(DrumsEncoding(self.data_config).from_note_sequence(note_sequence, num_steps))
        return np.stack(columns, axis=1).astype(np.int16)

    def roll_lanes(self, tokens: np.ndarray) -> list[RollLane]:
        """Melody, bass and drum-grid lanes."""
        tokens = np.asarray(tokens).reshape(-1, 3)
        return [RollLane("melody", token_notes(tokens[:, MELODY], self.data_config)),
                RollLane("bass", token_notes(tokens[:, BASS], self.data_config)),
                drum_lane(tokens[:, DRUMS])]

    def transpose(self, tokens, fraction, low: int, high: int):
        """Shift melody and bass note-ons of each window by one shift valid for both; drums
        unchanged."""
        import tensorflow as tf

        melody, bass, drums = tf.unstack(tf.convert_to_tensor(tokens), num=3, axis=-1)
        shift = window_shift([melody, bass], fraction, low, high, self.data_config.num_classes)
        return tf.stack([shift_notes(melody, shift), shift_notes(bass, shift), drums], axis=-1)
