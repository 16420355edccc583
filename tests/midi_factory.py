"""Build tiny MIDI files and NoteSequences for data-pipeline tests (never real datasets)."""

from __future__ import annotations

from pathlib import Path

import pretty_midi


def make_midi(notes, *, qpm: float = 120.0, meter=(4, 4), program: int = 0, is_drum: bool = False,
              tracks=None, meter_changes=()) -> pretty_midi.PrettyMIDI:
    """A PrettyMIDI with ``notes`` = [(pitch, start_beat, end_beat[, velocity])] on one track.

    ``tracks`` adds more tracks as [(notes, program, is_drum)]; ``meter_changes`` is
    [(beat, numerator, denominator)]. Beats are quarter notes.
    """
    midi = pretty_midi.PrettyMIDI(initial_tempo=qpm)
    seconds = 60.0 / qpm
    midi.time_signature_changes.append(pretty_midi.TimeSignature(meter[0], meter[1], 0.0))
    for beat, numerator, denominator in meter_changes:
        midi.time_signature_changes.append(
            pretty_midi.TimeSignature(numerator, denominator, beat * seconds))
    for track_notes, track_program, track_drum in [(notes, program, is_drum)] + list(tracks or []):
        instrument = pretty_midi.Instrument(program=track_program, is_drum=track_drum)
        for pitch, start, end, *velocity in track_notes:
            instrument.notes.append(pretty_midi.Note(velocity=velocity[0] if velocity else 90,
                                                     pitch=pitch, start=start * seconds,
                                                     end=end * seconds))
        midi.instruments.append(instrument)
    return midi


def make_sequence(notes, *, tempos=((0.0, 120.0),), meters=((0.0, 4, 4),)):
    """A NoteSequence with ``notes`` = [(pitch, start_seconds, end_seconds)], tempo and meter events."""
    from data_pipelines._note_seq import NoteSequence

    sequence = NoteSequence()
    for time, qpm in tempos:
        sequence.tempos.add(time=time, qpm=qpm)
    for time, numerator, denominator in meters:
        sequence.time_signatures.add(time=time, numerator=numerator, denominator=denominator)
    for pitch, start, end in notes:
        sequence.notes.add(pitch=pitch, start_time=start, end_time=end, velocity=90)
    sequence.total_time = max((n.end_time for n in sequence.notes), default=0.0)
    return sequence


def write(midi: pretty_midi.PrettyMIDI, path: str | Path) -> Path:
    """Write ``midi`` to ``path`` and return the path."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    midi.write(str(path))
    return Path(path)


def scale_notes(first_pitch: int = 60, bars: int = 4, beats_per_bar: int = 4, step: float = 0.5):
    """A continuous run of eighth notes over ``bars`` bars whose bars all differ."""
    pattern = (0, 2, 4, 5, 7, 9, 11, 12)
    notes = []
    for index in range(int(bars * beats_per_bar / step)):
        pitch = first_pitch + pattern[index % len(pattern)] + index // len(pattern)
        notes.append((pitch, index * step, (index + 1) * step))
    return notes
