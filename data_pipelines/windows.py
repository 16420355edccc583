"""Cutting extracted melodies into N-bar token windows (hop one bar, de-duplicated per piece)."""

from __future__ import annotations

import collections
import dataclasses

import numpy as np

from data_pipelines.extraction import Melody
from data_pipelines.tokens import (FIRST_PITCH_TOKEN, NO_EVENT, NOTE_OFF, check_piece_steps,
                                   piece_steps)
from data_pipelines.data_config import DataConfig
from data_pipelines.errors import MusicVAEError


@dataclasses.dataclass(frozen=True)
class Window:
    """``num_bars`` bars of one melody: ``tokens`` int array of shape [num_steps].

    ``bar_offset`` is the bar where the window starts, counted from the start of the piece's time
    segment (pieces are split at tempo and meter changes) that holds the melody.
    """

    source: str
    melody_index: int
    bar_offset: int
    tokens: np.ndarray


def melody_windows(melodies: list[Melody], data_config: DataConfig, source: str = ""):
    """Every distinct window (in melody order) and a Counter of skipped windows.

    As in Magenta, NOTE_OFF tokens before a window's first note-on become NO_EVENT (the note they
    end lies outside the window). Skips: ``"too short"`` counts melodies shorter than
    ``num_bars``; ``"duplicates"`` and ``"empty windows"`` count windows. Deliberate difference
    from Magenta: a window without any note-on is dropped unless ``drop_empty_windows`` is off.
    """
    skips: collections.Counter = collections.Counter()
    steps_per_bar, num_steps = data_config.steps_per_bar, data_config.num_steps
    seen: set[bytes] = set()
    windows = []
    for melody_index, melody in enumerate(melodies):
        bars = len(melody.tokens) // steps_per_bar
        if bars < data_config.num_bars:
            skips["too short"] += 1
            continue
        for bar in range(bars - data_config.num_bars + 1):
            tokens = clear_leading_note_offs(
                melody.tokens[bar * steps_per_bar: bar * steps_per_bar + num_steps])
            if data_config.drop_empty_windows and not (tokens >= FIRST_PITCH_TOKEN).any():
                skips["empty windows"] += 1
                continue
            key = tokens.tobytes()
            if key in seen:
                skips["duplicates"] += 1
                continue
            seen.add(key)
            windows.append(Window(source, melody_index, melody.start_bar + bar, tokens))
    return windows, skips


def clear_leading_note_offs(tokens: np.ndarray) -> np.ndarray:
    """A copy of ``tokens`` whose NOTE_OFFs before the first note-on are NO_EVENT."""
    tokens = tokens.copy()
    onsets = np.flatnonzero(tokens >= FIRST_PITCH_TOKEN)
    head = tokens[:onsets[0] if len(onsets) else len(tokens)]
    head[head == NOTE_OFF] = NO_EVENT
    return tokens


def windows_from_file(source, data_config: DataConfig) -> list[Window]:
    """All distinct windows of a MIDI path, PrettyMIDI object or NoteSequence, in the config's
    encoding (``data.encoding``).

    Raises MusicVAEError naming why a piece gives no window (unreadable file, longer than
    ``data.max_piece_steps``, wrong meter, no melody, too short).
    """
    from data_pipelines.encodings import encoding_for
    from data_pipelines.midi_source import read_note_sequence

    name, note_sequence = read_note_sequence(source)
    check_piece_steps(piece_steps(note_sequence, data_config), data_config, name)
    encoding = encoding_for(data_config)
    windows, _ = encoding.note_sequence_windows(note_sequence, name)
    if not windows:
        raise MusicVAEError(f"{name}: no {data_config.num_bars}-bar {encoding.name} window: "
                            f"{encoding.no_window_reason(note_sequence)}")
    return windows


def describe_no_windows(melodies: list[Melody], skips: collections.Counter,
                        data_config: DataConfig) -> str:
    """A short reason why a piece gave no window."""
    meters = sorted(k for k in skips if k.startswith("meter "))
    if skips.get("no notes"):
        return "no notes"
    if skips.get("too long"):
        return f"too long (over data.max_piece_steps = {data_config.max_piece_steps} steps)"
    if meters and not melodies:
        return (f"wrong meter ({', '.join(m[6:] for m in meters)}; the config needs "
                f"{data_config.steps_per_bar} steps per bar)")
    if not melodies:
        kept = [k for k in ("drums", "program filtered", "out of range notes") if skips.get(k)]
        return "no melody" + (f" (all notes were {', '.join(kept)})" if kept else "")
    longest = max(len(m.tokens) for m in melodies) // data_config.steps_per_bar
    if longest < data_config.num_bars:
        return f"too short (longest melody {longest} bars)"
    return "no window with a note"
