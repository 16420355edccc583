"""A user's piece as one bar-aligned melody, the bars to fill, and the 16-bar window around them.

Unlike training extraction (which ends a melody after a bar of silence), an inpainting input keeps
every bar from the start of the piece, silent ones included, so bar numbers match the score and an
empty stretch can mark the gap. The melody is the non-drum instrument with the most notes, made
monophonic (highest of simultaneous onsets; a new onset ends the sounding note). Positions come
from MIDI ticks, so tempo changes do not move notes off the grid; every time signature must give
``steps_per_bar`` steps (4/4 or 2/2 for 16 steps).
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np

from data_pipelines.tokens import FIRST_PITCH_TOKEN, NOTE_OFF, NO_EVENT
from musicvae_tf.config import DataConfig
from data_pipelines.errors import MusicVAEError, UsageError
from musicvae_tf.inpainting.gap import GapSplit


@dataclasses.dataclass(frozen=True)
class PieceMelody:
    """Melody tokens of a whole piece (``num_bars * steps_per_bar`` long) and its first tempo."""

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
    import pretty_midi

    path = Path(path)
    if not path.is_file():
        raise MusicVAEError(f"input not found: {path}")
    try:
        midi = pretty_midi.PrettyMIDI(str(path))
    except Exception as exc:  # pretty_midi raises many types for corrupt files
        raise MusicVAEError(f"cannot read {path} as MIDI: {exc}") from None
    return piece_from_midi(midi, path.name, data_config)


def piece_from_midi(midi, name: str, data_config: DataConfig) -> PieceMelody:
    """A :class:`PieceMelody` from a ``pretty_midi.PrettyMIDI`` (``name`` is used in errors)."""
    for signature in midi.time_signature_changes:
        steps = signature.numerator * 4 * data_config.steps_per_quarter / signature.denominator
        if steps != data_config.steps_per_bar:
            raise MusicVAEError(
                f"wrong meter in {name}: {signature.numerator}/{signature.denominator} at "
                f"{signature.time:.2f}s; the model needs {data_config.steps_per_bar} steps per bar "
                "(4/4 or 2/2)")
    instruments = [i for i in midi.instruments if not i.is_drum and any(n.velocity > 0 for n in i.notes)]
    if not instruments:
        raise MusicVAEError(f"{name} has no pitched notes")
    melody = max(instruments, key=lambda i: len(i.notes))

    def step(seconds: float) -> int:
        return round(midi.time_to_tick(seconds) / midi.resolution * data_config.steps_per_quarter)

    notes = [(step(n.start), step(n.end), n.pitch) for n in melody.notes
             if n.velocity > 0 and data_config.min_pitch <= n.pitch <= data_config.max_pitch]
    if not notes:
        raise MusicVAEError(f"{name} has no notes in pitch range "
                            f"{data_config.min_pitch}..{data_config.max_pitch}")
    tokens = notes_to_tokens(notes, data_config)
    _, tempi = midi.get_tempo_changes()
    qpm = float(tempi[0]) if len(tempi) else 120.0
    return PieceMelody(tokens=tokens, qpm=qpm, steps_per_bar=data_config.steps_per_bar)


def piece_from_id(piece_id: str, data_config: DataConfig) -> PieceMelody:
    """A :class:`PieceMelody` of a piece id (a file, ``file#tune`` or ``music21:...`` corpus id)."""
    from musicvae_tf.piece_inputs import load_piece_sequence

    return piece_from_midi(_to_pretty_midi(load_piece_sequence(piece_id)), piece_id, data_config)


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


def _to_pretty_midi(note_sequence):
    from data_pipelines._note_seq import note_seq

    return note_seq.midi_io.note_sequence_to_pretty_midi(note_sequence)


def notes_to_tokens(notes: list[tuple[int, int, int]], data_config: DataConfig) -> np.ndarray:
    """``(start_step, end_step, pitch)`` notes -> monophonic tokens padded to whole bars."""
    by_start: dict[int, tuple[int, int]] = {}
    for start, end, pitch in notes:
        start = max(start, 0)
        if start not in by_start or pitch > by_start[start][1]:
            by_start[start] = (max(end, start + 1), pitch)
    last_end = max(end for end, _ in by_start.values())
    steps_per_bar = data_config.steps_per_bar
    tokens = np.full(math.ceil(last_end / steps_per_bar) * steps_per_bar, NO_EVENT, np.int32)
    starts = sorted(by_start)
    for i, start in enumerate(starts):
        end, pitch = by_start[start]
        tokens[start] = FIRST_PITCH_TOKEN + pitch - data_config.min_pitch
        next_start = starts[i + 1] if i + 1 < len(starts) else None
        if end < len(tokens) and (next_start is None or end < next_start):
            tokens[end] = NOTE_OFF
    return tokens


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
