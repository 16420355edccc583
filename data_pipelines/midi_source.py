"""Standard MIDI files to NoteSequence (via pretty_midi and note-seq)."""

from __future__ import annotations

import io
import os
import warnings

from data_pipelines.errors import MusicVAEError

# pretty_midi allocates 8 bytes per tick up to a file's last event, so a file only it can read is
# refused past this many ticks (128 MiB; an hour at 120 qpm and 960 ticks per quarter is 6.9M).
MAX_FALLBACK_TICKS = 2**24


def read_note_sequence(source) -> tuple[str, object]:
    """``(name, NoteSequence)`` of a MIDI path, a PrettyMIDI object or a NoteSequence: the one
    way a user's MIDI becomes a NoteSequence (generation, inpainting, stats)."""
    if isinstance(source, (str, os.PathLike)):
        return str(source), read_midi_file(str(source))
    if hasattr(source, "instruments"):
        return "<PrettyMIDI>", pretty_midi_to_note_sequence(source)
    if hasattr(source, "notes"):
        return source.id or source.filename or "<NoteSequence>", source
    raise MusicVAEError(f"cannot read windows from a {type(source).__name__}")


def read_midi_file(path: str):
    """Parse a .mid/.midi file into a NoteSequence; MusicVAEError if it is not readable MIDI."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise MusicVAEError(f"cannot read {path}: {exc.strerror or exc}") from None
    return midi_bytes_to_note_sequence(data, path)


def midi_bytes_to_note_sequence(data: bytes, name: str = "<bytes>"):
    """Parse MIDI file contents into a NoteSequence; MusicVAEError if they are not readable MIDI.

    The fast byte-level reader (data_pipelines.smf_reader) handles ordinary files; anything it
    rejects goes through pretty_midi, which tolerates more malformed files, unless it spans more
    than :data:`MAX_FALLBACK_TICKS` ticks.
    """
    import pretty_midi

    from data_pipelines.smf_reader import smf_to_note_sequence

    if not data:
        raise MusicVAEError(f"{name}: empty file")
    try:
        sequence = smf_to_note_sequence(data)
        sequence.filename = name
        return sequence
    except Exception:  # anything odd (bad lengths, tempo 0, out-of-range values): let pretty_midi try
        pass
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ticks = _last_tick(data)
            if ticks > MAX_FALLBACK_TICKS:
                raise MusicVAEError(f"{name}: too long to read ({ticks:,} ticks, at most "
                                    f"{MAX_FALLBACK_TICKS:,} in a file this malformed)")
            midi = pretty_midi.PrettyMIDI(io.BytesIO(data))
    except MusicVAEError:
        raise
    except Exception as exc:  # pretty_midi/mido raise many types on corrupt input
        raise MusicVAEError(f"{name}: not a readable MIDI file ({type(exc).__name__})") from None
    sequence = pretty_midi_to_note_sequence(midi)
    sequence.filename = name
    return sequence


def _last_tick(data: bytes) -> int:
    """The tick of the last event of the longest track, as mido (pretty_midi's parser) reads it."""
    import mido

    tracks = mido.MidiFile(file=io.BytesIO(data)).tracks
    return max((sum(message.time for message in track) for track in tracks), default=0)


def pretty_midi_to_note_sequence(midi):
    """Convert a PrettyMIDI object to a NoteSequence (notes, tempos, time signatures, programs)."""
    from data_pipelines._note_seq import note_seq

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return note_seq.midi_io.midi_to_note_sequence(midi)
    except Exception as exc:  # note-seq raises MIDIConversionError and others on odd files
        raise MusicVAEError(f"MIDI conversion failed ({type(exc).__name__}: {exc})") from None
