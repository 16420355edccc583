"""The 90-class melody token vocabulary (SPEC §1) and decoding tokens back to playable music.

Token 0 holds the sounding note (or continues a rest), token 1 ends the sounding note and token
``2 + pitch - min_pitch`` starts a note of ``pitch``. A window is an int array of ``num_steps`` tokens.
"""

from __future__ import annotations

import io
import os

import numpy as np

from data_pipelines.data_config import DataConfig
from data_pipelines.errors import MusicVAEError
from data_pipelines.io_utils import atomic_write_bytes

NO_EVENT = 0
NOTE_OFF = 1
FIRST_PITCH_TOKEN = 2

DEFAULT_QPM = 120.0
# MIDI stores a tempo as 24-bit microseconds per quarter (1..16,777,215), so the slowest tempo a
# file can hold is 60e6 / 16,777,215 (about 3.58 qpm); tempos are accepted from there to MAX_QPM.
MIN_QPM = 60_000_000 / 16_777_215
MAX_QPM = 1000.0
DEFAULT_VELOCITY = 80


def pitch_to_token(pitch: int, data_config: DataConfig) -> int:
    """The note-on token of ``pitch`` (which must lie in the config's pitch range)."""
    return FIRST_PITCH_TOKEN + int(pitch) - data_config.min_pitch


def token_to_pitch(token: int, data_config: DataConfig) -> int:
    """The MIDI pitch of a note-on token."""
    return int(token) - FIRST_PITCH_TOKEN + data_config.min_pitch


def token_notes(tokens, data_config: DataConfig) -> list[tuple[int, int, int]]:
    """``(pitch, start_step, end_step)`` of every note in a token sequence, in order.

    A note lasts until the next note-on or note-off; a note still sounding at the end of the
    sequence ends with it. Tokens outside the vocabulary raise ``ValueError``.
    """
    values = np.asarray(tokens).reshape(-1)
    if values.size and (values.min() < 0 or values.max() >= data_config.num_classes):
        raise ValueError(f"tokens must lie in 0..{data_config.num_classes - 1}")
    notes = []
    pitch = start = None
    for step in np.flatnonzero(values != NO_EVENT).tolist():
        if pitch is not None:
            notes.append((pitch, start, step))
            pitch = None
        if values[step] >= FIRST_PITCH_TOKEN:
            pitch, start = token_to_pitch(values[step], data_config), step
    if pitch is not None:
        notes.append((pitch, start, int(values.size)))
    return notes


def tokens_to_note_sequence(tokens, data_config: DataConfig, qpm: float = DEFAULT_QPM,
                            velocity: int = DEFAULT_VELOCITY, program: int = 0):
    """A NoteSequence (4/4 or the config's meter, ``qpm``) playing the melody in ``tokens``."""
    from data_pipelines._note_seq import NoteSequence

    seconds_per_step = 60.0 / qpm / data_config.steps_per_quarter
    sequence = NoteSequence()
    sequence.ticks_per_quarter = 220
    sequence.tempos.add(time=0.0, qpm=qpm)
    numerator, denominator = _meter_for(data_config)
    sequence.time_signatures.add(time=0.0, numerator=numerator, denominator=denominator)
    for pitch, start, end in token_notes(tokens, data_config):
        sequence.notes.add(pitch=pitch, velocity=velocity, program=program, instrument=0,
                           start_time=start * seconds_per_step, end_time=end * seconds_per_step)
    sequence.total_time = len(np.asarray(tokens).reshape(-1)) * seconds_per_step
    return sequence


def tokens_to_pretty_midi(tokens, data_config: DataConfig, qpm: float = DEFAULT_QPM,
                          velocity: int = DEFAULT_VELOCITY, program: int = 0):
    """A PrettyMIDI object with one instrument playing the melody in ``tokens``."""
    import pretty_midi

    seconds_per_step = 60.0 / qpm / data_config.steps_per_quarter
    midi = pretty_midi.PrettyMIDI(initial_tempo=qpm)
    numerator, denominator = _meter_for(data_config)
    midi.time_signature_changes.append(pretty_midi.TimeSignature(numerator, denominator, 0.0))
    instrument = pretty_midi.Instrument(program=program)
    for pitch, start, end in token_notes(tokens, data_config):
        instrument.notes.append(pretty_midi.Note(velocity=velocity, pitch=pitch,
                                                 start=start * seconds_per_step,
                                                 end=end * seconds_per_step))
    midi.instruments.append(instrument)
    return midi


def write_midi(tokens, path: str | os.PathLike, data_config: DataConfig, qpm: float = DEFAULT_QPM,
               velocity: int = DEFAULT_VELOCITY, program: int = 0) -> str:
    """Write the melody in ``tokens`` as a standard MIDI file, atomically; returns the path."""
    buffer = io.BytesIO()
    tokens_to_pretty_midi(tokens, data_config, qpm, velocity, program).write(buffer)
    atomic_write_bytes(path, buffer.getvalue())
    return str(path)


def _meter_for(data_config: DataConfig) -> tuple[int, int]:
    """A time signature whose bar has ``steps_per_bar`` steps (4/4 for 16, 3/4 for 12, ...)."""
    quarters = data_config.steps_per_bar / data_config.steps_per_quarter
    if quarters == int(quarters):
        return int(quarters), 4
    return int(round(quarters * 2)), 8


def note_sequence_to_tokens(note_sequence, data_config: DataConfig, num_steps: int | None = None
                            ) -> np.ndarray:
    """Encode a NoteSequence from time 0 as one monophonic token array of ``num_steps``.

    The inverse of :func:`tokens_to_note_sequence` for in-range melodies: :func:`note_steps` then
    :func:`monophonic_tokens`, truncated or padded to ``num_steps`` (default: the config's window).
    Unlike melody extraction it neither splits at silences nor realigns to the first note's bar.
    """
    num_steps = data_config.num_steps if num_steps is None else num_steps
    return monophonic_tokens(note_steps(note_sequence, data_config), data_config, num_steps)


def note_steps(note_sequence, data_config: DataConfig) -> list[tuple[int, int, int]]:
    """``(start_step, end_step, pitch)`` of the sounding, in-range, non-drum notes (notes with a
    NaN or infinite time are left out).

    Times go to steps through the piece's tempo map (120 qpm before the first tempo), rounding to
    the nearest step as Magenta's quantiser does, so tempo changes do not move notes off the grid.
    """
    notes = [n for n in _timed_notes(note_sequence)
             if not n.is_drum and n.velocity > 0
             and data_config.min_pitch <= n.pitch <= data_config.max_pitch]
    if not notes:
        return []
    step = _step_of_time(note_sequence, data_config)
    return [(step(n.start_time), step(n.end_time), n.pitch) for n in notes]


def piece_steps(note_sequence, data_config: DataConfig) -> int:
    """How many steps a piece spans: from time 0 to the end of its last note (any instrument;
    notes with a NaN or infinite time are left out), through its tempo map as :func:`note_steps`."""
    notes = _timed_notes(note_sequence)
    if not notes:
        return 0
    return _step_of_time(note_sequence, data_config)(max(max(n.start_time, n.end_time) for n in notes))


def check_piece_steps(num_steps: int, data_config: DataConfig, name: str = "the piece") -> None:
    """A one-line MusicVAEError naming the limit and the length when a piece of ``num_steps``
    steps is longer than ``data.max_piece_steps``: called before anything is allocated per step,
    so a tiny file holding one enormous note cannot exhaust memory."""
    limit = data_config.max_piece_steps
    if num_steps > limit:
        bars = num_steps / data_config.steps_per_bar
        length = (f"{num_steps:,} steps ({bars:,.0f} bars)" if num_steps < 10**15
                  else f"{num_steps:.2e} steps")
        raise MusicVAEError(f"{name} is {length} long, over the limit of {limit:,} steps "
                            "(data.max_piece_steps)")


def _timed_notes(note_sequence) -> list:
    return [n for n in note_sequence.notes
            if np.isfinite(n.start_time) and np.isfinite(n.end_time)]


def _step_of_time(note_sequence, data_config: DataConfig):
    """``seconds -> step`` through the piece's tempo map (120 qpm before the first tempo)."""
    tempos = sorted((max(0.0, t.time), t.qpm) for t in note_sequence.tempos
                    if np.isfinite(t.time) and np.isfinite(t.qpm) and t.qpm > 0)
    if not tempos or tempos[0][0] > 0:
        tempos.insert(0, (0.0, DEFAULT_QPM))
    times = np.asarray([t for t, _ in tempos])
    rates = np.asarray([qpm for _, qpm in tempos]) / 60.0 * data_config.steps_per_quarter
    offsets = np.concatenate([[0.0], np.cumsum(np.diff(times) * rates[:-1])])

    def step(seconds: float) -> int:
        index = max(0, int(np.searchsorted(times, seconds, side="right")) - 1)
        return int(np.floor(offsets[index] + (seconds - times[index]) * rates[index] + 0.5))

    return step


def monophonic_tokens(notes, data_config: DataConfig, num_steps: int | None = None,
                      name: str = "the piece") -> np.ndarray:
    """``(start_step, end_step, pitch)`` notes -> monophonic tokens: the highest of simultaneous
    onsets wins and a new onset ends the sounding note. The array has ``num_steps`` steps (later
    notes are dropped), or by default whole bars up to the last note's end, refused (one line
    naming ``name``) when over ``data.max_piece_steps``."""
    by_start: dict[int, tuple[int, int]] = {}
    for start, end, pitch in notes:
        start = max(int(start), 0)
        if start not in by_start or pitch > by_start[start][1]:
            by_start[start] = (max(int(end), start + 1), int(pitch))
    if num_steps is None:
        last_end = max((end for end, _ in by_start.values()), default=0)
        steps_per_bar = data_config.steps_per_bar
        num_steps = -(-last_end // steps_per_bar) * steps_per_bar
        check_piece_steps(num_steps, data_config, name)
    tokens = np.full(num_steps, NO_EVENT, np.int32)
    starts = sorted(s for s in by_start if s < num_steps)
    for i, start in enumerate(starts):
        end, pitch = by_start[start]
        tokens[start] = pitch_to_token(pitch, data_config)
        next_start = starts[i + 1] if i + 1 < len(starts) else None
        if end < num_steps and (next_start is None or end < next_start):
            tokens[end] = NOTE_OFF
    return tokens
