"""Piano-roll pictures (PNG) of token melodies and NoteSequences.

Time runs left to right in bars (thin lines on beats, thick lines on bars, bars numbered from 1
as musicians count), pitch bottom to top with note names on the axis. ``highlight_bars`` shades bars, e.g. the bars an inpainting model
filled in. Files are written atomically with the non-interactive Agg backend.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Iterable, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
import numpy as np  # noqa: E402

from musicvae_tf.attributes import Note, melody_notes  # noqa: E402
from musicvae_tf.config import DataConfig  # noqa: E402
from data_pipelines.io_utils import atomic_path  # noqa: E402

_NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
_NOTE_COLOR = "#2b6cb0"
_HIGHLIGHT_COLOR = "#f6ad55"


def plot_piano_roll(tokens_or_note_sequence, path: str | Path, data_config: DataConfig,
                    title: str | None = None, highlight_bars: Iterable[int] | None = None) -> Path:
    """Draw one melody (tokens [T] or a NoteSequence) as a piano roll and save it as PNG at ``path``."""
    notes, num_steps = _notes_and_length(tokens_or_note_sequence, data_config)
    num_bars = max(1, math.ceil(num_steps / data_config.steps_per_bar))
    fig, ax = plt.subplots(figsize=(min(3.0 + 1.2 * num_bars, 24.0), 4.0))
    _draw(ax, notes, num_bars, data_config, _pitch_span([notes]), highlight_bars)
    if title:
        ax.set_title(title)
    return _save(fig, path)


def plot_token_grid(list_of_tokens: Sequence, path: str | Path, data_config: DataConfig,
                    titles: Sequence[str] | None = None) -> Path:
    """Draw several melodies one above the other on shared axes (e.g. every interpolation step)."""
    if len(list_of_tokens) == 0:
        raise ValueError("plot_token_grid needs at least one melody")
    if titles is not None and len(titles) != len(list_of_tokens):
        raise ValueError("plot_token_grid needs one title per melody")
    parsed = [_notes_and_length(item, data_config) for item in list_of_tokens]
    num_bars = max(1, max(math.ceil(length / data_config.steps_per_bar) for _, length in parsed))
    span = _pitch_span([notes for notes, _ in parsed])
    rows = len(parsed)
    fig, axes = plt.subplots(rows, 1, figsize=(min(3.0 + 1.2 * num_bars, 24.0), 1.0 + 1.6 * rows),
                             sharex=True, squeeze=False)
    for row, (notes, _) in enumerate(parsed):
        ax = axes[row][0]
        _draw(ax, notes, num_bars, data_config, span, None)
        if titles is not None:
            ax.set_title(titles[row], fontsize=9, loc="left")
        if row < rows - 1:
            ax.set_xlabel("")
    return _save(fig, path)


def plot_token_matrix(rows: Sequence[Sequence], path: str | Path, data_config: DataConfig,
                      titles: Sequence[Sequence[str]] | None = None) -> Path:
    """Draw melodies laid out as a grid (``rows[r][c]``, e.g. a 4-corner interpolation) on shared
    axes, one small piano roll per cell."""
    if len(rows) == 0 or not all(len(row) == len(rows[0]) > 0 for row in rows):
        raise ValueError("plot_token_matrix needs a non-empty rectangular grid of melodies")
    parsed = [[_notes_and_length(item, data_config) for item in row] for row in rows]
    cells = [cell for row in parsed for cell in row]
    num_bars = max(1, max(math.ceil(length / data_config.steps_per_bar) for _, length in cells))
    span = _pitch_span([notes for notes, _ in cells])
    num_rows, num_cols = len(parsed), len(parsed[0])
    width = min(1.0 + 1.0 * num_bars, 8.0)
    fig, axes = plt.subplots(num_rows, num_cols, figsize=(width * num_cols, 1.8 * num_rows),
                             sharex=True, sharey=True, squeeze=False)
    for r, row in enumerate(parsed):
        for c, (notes, _) in enumerate(row):
            ax = axes[r][c]
            _draw(ax, notes, num_bars, data_config, span, None)
            if titles is not None:
                ax.set_title(titles[r][c], fontsize=8, loc="left")
            if r < num_rows - 1:
                ax.set_xlabel("")
    return _save(fig, path)


def _notes_and_length(item, data_config: DataConfig) -> tuple[list[Note], int]:
    """Notes in steps and the length in steps of tokens or a NoteSequence."""
    if hasattr(item, "notes") and hasattr(item, "total_time"):
        return _note_sequence_notes(item, data_config)
    tokens = np.asarray(item).reshape(-1)
    return melody_notes(tokens, data_config), len(tokens)


def _note_sequence_notes(sequence, data_config: DataConfig) -> tuple[list[Note], int]:
    """NoteSequence notes on the step grid (quantised steps if present, else from the first tempo)."""
    quantized = sequence.quantization_info.steps_per_quarter > 0
    if quantized:
        scale = data_config.steps_per_quarter / sequence.quantization_info.steps_per_quarter
        notes = [Note(round(n.quantized_start_step * scale), round(n.quantized_end_step * scale), n.pitch)
                 for n in sequence.notes if not n.is_drum]
        length = round(sequence.total_quantized_steps * scale)
    else:
        qpm = sequence.tempos[0].qpm if len(sequence.tempos) else 120.0
        steps_per_second = qpm / 60.0 * data_config.steps_per_quarter
        notes = [Note(round(n.start_time * steps_per_second), round(n.end_time * steps_per_second), n.pitch)
                 for n in sequence.notes if not n.is_drum]
        length = round(sequence.total_time * steps_per_second)
    length = max([length] + [n.end for n in notes] + [1])
    return notes, length


def _pitch_span(note_lists: Iterable[list[Note]]) -> tuple[int, int]:
    """Pitch range shown: the notes' range padded to at least an octave and a half (C4..F5 if empty)."""
    pitches = [n.pitch for notes in note_lists for n in notes]
    low, high = (min(pitches), max(pitches)) if pitches else (60, 77)
    missing = max(0, 18 - (high - low))
    return low - 2 - missing // 2, high + 2 + (missing - missing // 2)


def _draw(ax, notes: list[Note], num_bars: int, data_config: DataConfig, span: tuple[int, int],
          highlight_bars: Iterable[int] | None) -> None:
    steps_per_bar = data_config.steps_per_bar
    low, high = span
    for bar in sorted(set(highlight_bars or ())):
        ax.axvspan(bar, bar + 1, color=_HIGHLIGHT_COLOR, alpha=0.3, lw=0)
    for note in notes:
        start, end = note.start / steps_per_bar, max(note.end, note.start + 1) / steps_per_bar
        ax.add_patch(plt.Rectangle((start, note.pitch - 0.45), end - start, 0.9,
                                   facecolor=_NOTE_COLOR, edgecolor="black", linewidth=0.4))
    beats_per_bar = max(1, steps_per_bar // data_config.steps_per_quarter)
    for beat in range(num_bars * beats_per_bar + 1):
        on_bar = beat % beats_per_bar == 0
        ax.axvline(beat / beats_per_bar, color="black" if on_bar else "#cbd5e0",
                   linewidth=0.8 if on_bar else 0.4, zorder=0)
    ax.set_xlim(0, num_bars)
    ax.set_ylim(low - 0.5, high + 0.5)
    ax.set_xticks([bar + 0.5 for bar in range(num_bars)], [str(bar + 1) for bar in range(num_bars)])
    ax.tick_params(axis="x", length=0)
    c_pitches = [p for p in range(low, high + 1) if p % 12 == 0] or [low]
    ax.set_yticks(c_pitches, [_pitch_name(p) for p in c_pitches])
    ax.set_xlabel("bar")
    ax.grid(axis="y", color="#edf2f7", linewidth=0.4)
    ax.set_axisbelow(True)


def _pitch_name(pitch: int) -> str:
    return f"{_NOTE_NAMES[pitch % 12]}{pitch // 12 - 1}"


def _save(fig, path: str | Path) -> Path:
    fig.tight_layout()
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png", dpi=100)
    finally:
        plt.close(fig)
    return Path(path)
