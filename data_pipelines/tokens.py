"""The 90-class melody token vocabulary (SPEC §1) and decoding tokens back to playable music.

Token 0 holds the sounding note (or continues a rest), token 1 ends the sounding note and token
``2 + pitch - min_pitch`` starts a note of ``pitch``. A window is an int array of ``num_steps`` tokens.
"""

from __future__ import annotations

import io
import os

import numpy as np

from data_pipelines.data_config import DataConfig
from data_pipelines.io_utils import atomic_write_bytes

NO_EVENT = 0
NOTE_OFF = 1
FIRST_PITCH_TOKEN = 2

DEFAULT_QPM = 120.0
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

    The inverse of :func:`tokens_to_note_sequence` for in-range melodies: quantises with the first
    tempo (120 qpm when none), keeps the highest of simultaneous notes, drops drums and notes
    outside the pitch range, and truncates or pads to ``num_steps`` (default: the config's window).
    Unlike melody extraction it neither splits at silences nor realigns to the first note's bar.
    """
    num_steps = data_config.num_steps if num_steps is None else num_steps
    qpm = note_sequence.tempos[0].qpm if note_sequence.tempos else DEFAULT_QPM
    steps_per_second = qpm / 60.0 * data_config.steps_per_quarter
    notes = sorted(((int(np.floor(n.start_time * steps_per_second + 0.5)),
                     int(np.floor(n.end_time * steps_per_second + 0.5)), n.pitch)
                    for n in note_sequence.notes
                    if not n.is_drum and n.velocity > 0
                    and data_config.min_pitch <= n.pitch <= data_config.max_pitch),
                   key=lambda note: (note[0], -note[2]))
    events = np.full(num_steps, NO_EVENT, np.int32)
    last_on = -1
    for start, end, pitch in notes:
        if start == last_on or start >= num_steps:
            continue
        end = max(end, start + 1)
        events[start] = pitch_to_token(pitch, data_config)
        events[start + 1:min(end, num_steps)] = NO_EVENT
        if end < num_steps:
            events[end] = NOTE_OFF
        last_on = start
    return events
