"""Piano-roll pictures (PNG) of token windows and NoteSequences: the lanes the encoding gives
(``Encoding.roll_lanes``: a melody is one lane, a trio three, a drum lane a grid of named rows).

Time runs left to right in bars (thin lines on beats, thick lines on bars, bars numbered from 1
as musicians count), pitch bottom to top with note names on the axis. ``highlight_bars`` shades
bars, e.g. the bars an inpainting model filled in. Files are written atomically with the
non-interactive Agg backend.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Iterable, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
import numpy as np  # noqa: E402

from data_pipelines.data_config import DataConfig  # noqa: E402
from data_pipelines.encodings import RollLane, encoding_for  # noqa: E402
from data_pipelines.io_utils import atomic_path  # noqa: E402
from musicvae_tf.attributes import Note  # noqa: E402

_NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
_NOTE_COLOR = "#2b6cb0"
_HIGHLIGHT_COLOR = "#f6ad55"


def plot_piano_roll(tokens_or_note_sequence, path: str | Path, data_config: DataConfig,
                    title: str | None = None, highlight_bars: Iterable[int] | None = None) -> Path:
    """Draw one window (tokens or a NoteSequence) as a piano roll, one lane per instrument of the
    config's encoding, and save it as PNG at ``path``."""
    lanes, num_steps = _lanes_and_length(tokens_or_note_sequence, data_config)
    num_bars = max(1, math.ceil(num_steps / data_config.steps_per_bar))
    fig, axes = plt.subplots(len(lanes), 1, figsize=(min(3.0 + 1.2 * num_bars, 24.0),
                                                     4.0 + 2.5 * (len(lanes) - 1)),
                             sharex=True, squeeze=False)
    for row, lane in enumerate(lanes):
        _draw(axes[row][0], lane, num_bars, data_config, _pitch_span([lane.notes]), highlight_bars)
        if len(lanes) > 1:
            axes[row][0].set_ylabel(lane.name, fontsize=9)
        if row < len(lanes) - 1:
            axes[row][0].set_xlabel("")
    if title:
        axes[0][0].set_title(title)
    return _save(fig, path)


def plot_token_grid(list_of_tokens: Sequence, path: str | Path, data_config: DataConfig,
                    titles: Sequence[str] | None = None) -> Path:
    """Draw several windows one above the other on shared axes (e.g. every interpolation step)."""
    if len(list_of_tokens) == 0:
        raise ValueError("plot_token_grid needs at least one melody")
    if titles is not None and len(titles) != len(list_of_tokens):
        raise ValueError("plot_token_grid needs one title per melody")
    parsed = [_lanes_and_length(item, data_config) for item in list_of_tokens]
    num_bars = max(1, max(math.ceil(length / data_config.steps_per_bar) for _, length in parsed))
    spans = _lane_spans([lanes for lanes, _ in parsed])
    rows = [(index, lane) for index, (lanes, _) in enumerate(parsed) for lane in lanes]
    fig, axes = plt.subplots(len(rows), 1, figsize=(min(3.0 + 1.2 * num_bars, 24.0),
                                                    1.0 + 1.6 * len(rows)),
                             sharex=True, squeeze=False)
    for row, (index, lane) in enumerate(rows):
        ax = axes[row][0]
        _draw(ax, lane, num_bars, data_config, spans[lane.name], None)
        if len(parsed[index][0]) > 1:
            ax.set_ylabel(lane.name, fontsize=9)
        if titles is not None and (row == 0 or rows[row - 1][0] != index):
            ax.set_title(titles[index], fontsize=9, loc="left")
        if row < len(rows) - 1:
            ax.set_xlabel("")
    return _save(fig, path)


def plot_token_matrix(rows: Sequence[Sequence], path: str | Path, data_config: DataConfig,
                      titles: Sequence[Sequence[str]] | None = None) -> Path:
    """Draw windows laid out as a grid (``rows[r][c]``, e.g. a 4-corner interpolation) on shared
    axes, one small piano roll per cell and lane."""
    if len(rows) == 0 or not all(len(row) == len(rows[0]) > 0 for row in rows):
        raise ValueError("plot_token_matrix needs a non-empty rectangular grid of melodies")
    parsed = [[_lanes_and_length(item, data_config) for item in row] for row in rows]
    cells = [cell for row in parsed for cell in row]
    num_bars = max(1, max(math.ceil(length / data_config.steps_per_bar) for _, length in cells))
    spans = _lane_spans([lanes for lanes, _ in cells])
    num_lanes = len(cells[0][0])
    num_rows, num_cols = len(parsed) * num_lanes, len(parsed[0])
    width = min(1.0 + 1.0 * num_bars, 8.0)
    fig, axes = plt.subplots(num_rows, num_cols, figsize=(width * num_cols, 1.8 * num_rows),
                             sharex=True, sharey=num_lanes == 1, squeeze=False)
    for r, row in enumerate(parsed):
        for c, (lanes, _) in enumerate(row):
            for index, lane in enumerate(lanes):
                ax = axes[r * num_lanes + index][c]
                _draw(ax, lane, num_bars, data_config, spans[lane.name], None)
                if num_lanes > 1 and c == 0:
                    ax.set_ylabel(lane.name, fontsize=8)
                if titles is not None and index == 0:
                    ax.set_title(titles[r][c], fontsize=8, loc="left")
                if r * num_lanes + index < num_rows - 1:
                    ax.set_xlabel("")
    return _save(fig, path)


def _lanes_and_length(item, data_config: DataConfig) -> tuple[list[RollLane], int]:
    """The lanes (from the config's encoding) and the length in steps of tokens or a NoteSequence."""
    if hasattr(item, "notes") and hasattr(item, "total_time"):
        notes, length = _note_sequence_notes(item, data_config)
        return [RollLane("notes", [(n.pitch, n.start, n.end) for n in notes])], length
    tokens = np.asarray(item)
    return encoding_for(data_config).roll_lanes(tokens), len(tokens)


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


def _lane_spans(lane_lists: Iterable[list[RollLane]]) -> dict[str, tuple[int, int]]:
    """The pitch range of each lane name across several windows, so equal lanes share axes."""
    notes: dict[str, list] = {}
    for lanes in lane_lists:
        for lane in lanes:
            notes.setdefault(lane.name, []).append(lane.notes)
    return {name: _pitch_span(lists) for name, lists in notes.items()}


def _pitch_span(note_lists: Iterable[list]) -> tuple[int, int]:
    """Pitch range shown: the notes' range padded to at least an octave and a half (C4..F5 if empty)."""
    pitches = [pitch for notes in note_lists for pitch, _, _ in notes]
    low, high = (min(pitches), max(pitches)) if pitches else (60, 77)
    missing = max(0, 18 - (high - low))
    return low - 2 - missing // 2, high + 2 + (missing - missing // 2)


def _draw(ax, lane: RollLane, num_bars: int, data_config: DataConfig, span: tuple[int, int],
          highlight_bars: Iterable[int] | None) -> None:
    """One lane: notes as boxes over beat and bar lines; a lane with ``row_names`` is a drum grid
    with one labelled row per class."""
    steps_per_bar = data_config.steps_per_bar
    low, high = span if lane.row_names is None else (0, len(lane.row_names) - 1)
    for bar in sorted(set(highlight_bars or ())):
        ax.axvspan(bar, bar + 1, color=_HIGHLIGHT_COLOR, alpha=0.3, lw=0)
    for pitch, start_step, end_step in lane.notes:
        start, end = start_step / steps_per_bar, max(end_step, start_step + 1) / steps_per_bar
        ax.add_patch(plt.Rectangle((start, pitch - 0.45), end - start, 0.9,
                                   facecolor=_NOTE_COLOR, edgecolor="black", linewidth=0.4))
    beats_per_bar = max(1, steps_per_bar // data_config.steps_per_quarter)
    for beat in range(num_bars * beats_per_bar + 1):
        on_bar = beat % beats_per_bar == 0
        ax.axvline(beat / beats_per_bar, color="black" if on_bar else "#cbd5e0",
                   linewidth=0.8 if on_bar else 0.4, zorder=0)
    for step, text in lane.labels:
        ax.text(step / steps_per_bar + 0.02, high + 0.4, text, fontsize=8, va="top")
    ax.set_xlim(0, num_bars)
    ax.set_ylim(low - 0.5, high + 0.5)
    ax.set_xticks([bar + 0.5 for bar in range(num_bars)], [str(bar + 1) for bar in range(num_bars)])
    ax.tick_params(axis="x", length=0)
    if lane.row_names is None:
        c_pitches = [p for p in range(low, high + 1) if p % 12 == 0] or [low]
        ax.set_yticks(c_pitches, [_pitch_name(p) for p in c_pitches])
    else:
        ax.set_yticks(range(len(lane.row_names)), list(lane.row_names))
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
