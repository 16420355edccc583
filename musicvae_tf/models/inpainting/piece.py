"""A user's piece as one bar-aligned melody, the bars to fill, and the 16-bar window around them.

Unlike training extraction (which ends a melody after a bar of silence), an inpainting input keeps
every bar from the start of the piece, silent ones included, so bar numbers match the score and an
empty stretch can mark the gap. The piece is read as every other input is (``read_midi_file``,
``load_piece``); the melody is the non-drum instrument with the most notes, made monophonic by the
shared reduction (highest of simultaneous onsets; a new onset ends the sounding note). Positions
follow the tempo map, so tempo changes do not move notes off the grid; every time signature must
give ``steps_per_bar`` steps (4/4 or 2/2 for 16 steps).
"""

from __future__ import annotations

import collections
import dataclasses
from pathlib import Path

import numpy as np

from data_pipelines.tokens import (DEFAULT_QPM, FIRST_PITCH_TOKEN, MAX_QPM, MIN_QPM, NOTE_OFF,
                                   monophonic_tokens, note_steps)
from musicvae_tf.config import DataConfig
from data_pipelines.errors import MusicVAEError, UsageError
from musicvae_tf.models.inpainting.gap import GapSplit


@dataclasses.dataclass(frozen=True)
class PieceMelody:
    """Melody tokens of a whole piece (``num_bars * steps_per_bar`` long) and its first tempo
    (brought into the range ``--qpm`` accepts)."""

    tokens: np.ndarray
    qpm: float
    steps_per_bar: int

    @property
    def num_bars(self) -> int:
        """Bars in the piece."""
        return len(self.tokens) // self.steps_per_bar

    def bars(self) -> np.ndarray:
        """Tokens as ``[num_bars, steps_per_bar]``."""
        return self.tokens.reshape(self.num_bars, self.steps_per_bar)


def read_piece(path: str | Path, data_config: DataConfig) -> PieceMelody:
    """Read a MIDI file into a :class:`PieceMelody`; one-line errors for unreadable or unusable input."""
    from data_pipelines.midi_source import read_midi_file

    path = Path(path)
    if not path.is_file():
        raise MusicVAEError(f"input not found: {path}")
    return piece_from_note_sequence(read_midi_file(str(path)), path.name, data_config)


def piece_from_note_sequence(note_sequence, name: str, data_config: DataConfig) -> PieceMelody:
    """A :class:`PieceMelody` from a NoteSequence (``name`` is used in errors): the non-drum
    instrument with the most notes, on the step grid of the tempo map (``note_steps``) and made
    monophonic as everywhere else (``monophonic_tokens``)."""
    for signature in note_sequence.time_signatures:
        quarter_steps = signature.numerator * 4 * data_config.steps_per_quarter
        if quarter_steps != data_config.steps_per_bar * signature.denominator:  # no division: 4/0
            raise MusicVAEError(
                f"wrong meter in {name}: {signature.numerator}/{signature.denominator} at "
                f"{signature.time:.2f}s; the model needs {data_config.steps_per_bar} steps per bar "
                "(4/4 or 2/2)")
    counts = collections.Counter(n.instrument for n in note_sequence.notes if not n.is_drum)
    sounding = {n.instrument for n in note_sequence.notes if not n.is_drum and n.velocity > 0}
    if not sounding:
        raise MusicVAEError(f"{name} has no pitched notes")
    melody = max(sorted(sounding), key=lambda instrument: counts[instrument])
    selected = type(note_sequence)()
    selected.CopyFrom(note_sequence)
    del selected.notes[:]
    selected.notes.extend(n for n in note_sequence.notes
                          if n.instrument == melody and not n.is_drum)
    notes = note_steps(selected, data_config)
    if not notes:
        raise MusicVAEError(f"{name} has no notes in pitch range "
                            f"{data_config.min_pitch}..{data_config.max_pitch}")
    tempos = sorted(note_sequence.tempos, key=lambda tempo: tempo.time)
    qpm = float(tempos[0].qpm) if tempos else DEFAULT_QPM
    # The outputs are written at this tempo: keep it one a MIDI file can store.
    qpm = float(np.clip(qpm, MIN_QPM, MAX_QPM)) if np.isfinite(qpm) and qpm > 0 else DEFAULT_QPM
    return PieceMelody(tokens=monophonic_tokens(notes, data_config, name=name), qpm=qpm,
                       steps_per_bar=data_config.steps_per_bar)


def piece_from_id(piece_id: str, data_config: DataConfig) -> PieceMelody:
    """A :class:`PieceMelody` of a piece id (a file, ``file#tune`` or ``music21:...`` corpus id)."""
    from musicvae_tf.piece_inputs import load_piece_sequence

    return piece_from_note_sequence(load_piece_sequence(piece_id), piece_id, data_config)


def held_out_piece(data_dir: str | Path, data_config: DataConfig, min_bars: int,
                   split: str = "test") -> tuple[str, PieceMelody]:
    """The first ``split`` piece of a prepared data dir (``pieces.json`` order) with ``min_bars`` bars.

    Pieces in the model's meter that load cleanly qualify; the id is returned for the report.
    """
    import json

    listing = Path(data_dir) / "pieces.json"
    if not listing.is_file():
        raise UsageError(f"{data_dir} has no pieces.json (prepare it with musicvae-tf prepare)")
    for piece_id in json.loads(listing.read_text()).get(split, []):
        try:
            piece = piece_from_id(piece_id, data_config)
        except MusicVAEError:
            continue
        if piece.num_bars >= min_bars:
            return piece_id, piece
    raise MusicVAEError(f"no {split} piece in {data_dir} has {min_bars} bars in a usable meter")


def sounding_bars(bars: np.ndarray) -> np.ndarray:
    """``[num_bars]`` bool: True where a note sounds at some step of the bar."""
    sounding = False
    flags = np.zeros(bars.shape, bool)
    for index, token in np.ndenumerate(bars):
        if token >= FIRST_PITCH_TOKEN:
            sounding = True
        elif token == NOTE_OFF:
            sounding = False
        flags[index] = sounding
    return flags.any(axis=1)


def parse_bar_range(text: str) -> tuple[int, int]:
    """``"9-12"`` or ``"9"`` (1-based, inclusive) -> 0-based ``(gap_start, gap_length)``."""
    first, sep, last = text.strip().partition("-")
    try:
        start, end = int(first), int(last) if sep else int(first)
    except ValueError:
        raise UsageError(f"--bars expects FIRST-LAST bar numbers such as 9-12, got {text!r}") from None
    if start < 1 or end < start:
        raise UsageError(f"--bars {text}: bar numbers start at 1 and FIRST must not exceed LAST")
    return start - 1, end - start + 1


def find_empty_gap(piece: PieceMelody) -> tuple[int, int]:
    """The longest run of silent bars with sounding bars on both sides, as ``(gap_start, gap_length)``."""
    silent = ~sounding_bars(piece.bars())
    best = (0, 0)
    start = None
    for bar, is_silent in enumerate(list(silent) + [False]):
        if is_silent and start is None:
            start = bar
        elif not is_silent and start is not None:
            if start > 0 and bar < piece.num_bars and bar - start > best[1]:
                best = (start, bar - start)
            start = None
    if best[1] == 0:
        raise UsageError("no --bars given and the input has no empty bars between notes to fill")
    return best


def window_around_gap(num_bars: int, gap_start: int, gap_length: int,
                      window_bars: int = 16, preferred_past: int = 6) -> tuple[int, GapSplit]:
    """First bar of the window the model sees, and the split inside it.

    Takes up to ``preferred_past`` bars before the gap (more if the future side is short), and as
    many bars after the gap as fit in ``window_bars``.
    """
    end = gap_start + gap_length
    if gap_start >= num_bars or end > num_bars:
        raise UsageError(f"bars {gap_start + 1}-{end} are out of range: the piece has {num_bars} bars")
    if gap_start == 0 or end == num_bars:
        side = "before" if gap_start == 0 else "after"
        raise UsageError(f"bars {gap_start + 1}-{end} leave no context {side} the gap; "
                         "keep at least one known bar on each side")
    if gap_length > window_bars - 2:
        raise UsageError(f"a gap of {gap_length} bars is too long: at most {window_bars - 2} bars "
                         f"fit in a {window_bars}-bar window with context on both sides")
    room = window_bars - gap_length
    future_available = num_bars - end
    past = min(gap_start, max(preferred_past, room - future_available))
    future = min(future_available, room - past)
    return gap_start - past, GapSplit(past, gap_length, future)
