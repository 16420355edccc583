"""Statistics that say whether melodies look like the data: key, density and repetition.

Computed over token windows ``[N, T]`` (training windows, samples from a model, or windows cut from
MIDI files) so the three can be compared directly:

- ``in_scale_share``: per window, the largest share of its notes that fit one major (or its
  relative natural minor) scale, averaged over windows with notes;
- ``notes_per_bar``: note onsets per bar;
- ``repeated_bar_share``: share of bars after the first of a window that repeat an earlier bar of
  the same window token for token (silent bars excluded);
- ``silent_bar_share`` and ``pitch_range`` (semitones between the lowest and highest note).
"""

from __future__ import annotations

import numpy as np

from data_pipelines.errors import MusicVAEError
from data_pipelines.tokens import FIRST_PITCH_TOKEN

MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
STAT_NAMES = ("in_scale_share", "notes_per_bar", "repeated_bar_share", "silent_bar_share",
              "pitch_range")
# Each of the 12 diatonic pitch-class sets, as a [12, 12] membership table.
_SCALES = np.array([[(pc - tonic) % 12 in MAJOR_SCALE for pc in range(12)] for tonic in range(12)])


def require_melody(data_config, what: str) -> None:
    """Refuse a non-melody encoding in one line: ``what`` (attribute vectors, these statistics)
    measure 90-class melody tokens, which a drum or trio window is not."""
    if data_config.encoding != "melody":
        raise MusicVAEError(f"{what} measure melodies, and data.encoding "
                            f"{data_config.encoding!r} windows are not melodies")


def melody_statistics(tokens: np.ndarray, steps_per_bar: int) -> dict:
    """The statistics above (means over windows) plus ``num_windows``."""
    tokens = np.asarray(tokens)
    if tokens.ndim != 2 or tokens.shape[0] == 0:
        return {"num_windows": 0}
    num_bars = tokens.shape[1] // steps_per_bar
    onsets = tokens >= FIRST_PITCH_TOKEN
    in_scale, ranges, repeated, later_bars, silent = [], [], 0, 0, 0
    for row, row_onsets in zip(tokens, onsets):
        pitches = row[row_onsets] - FIRST_PITCH_TOKEN
        if pitches.size:
            counts = np.bincount(pitches % 12, minlength=12)
            in_scale.append(float((_SCALES @ counts).max() / pitches.size))
            ranges.append(float(pitches.max() - pitches.min()))
        bars = row[:num_bars * steps_per_bar].reshape(num_bars, steps_per_bar)
        sounding = (bars >= FIRST_PITCH_TOKEN).any(axis=1)
        silent += int((~sounding).sum())
        seen: set[bytes] = set()
        for index, bar in enumerate(bars):
            key = bar.tobytes()
            if index and sounding[index]:
                later_bars += 1
                repeated += key in seen
            seen.add(key)
    windows = tokens.shape[0]
    return {
        "num_windows": int(windows),
        "in_scale_share": float(np.mean(in_scale)) if in_scale else 0.0,
        "notes_per_bar": float(onsets.sum() / (windows * num_bars)),
        "repeated_bar_share": repeated / later_bars if later_bars else 0.0,
        "silent_bar_share": silent / (windows * num_bars),
        "pitch_range": float(np.mean(ranges)) if ranges else 0.0,
    }


def relative_differences(reference: dict, other: dict) -> dict:
    """``(other - reference) / reference`` per statistic (None where the reference is 0)."""
    return {name: (None if not reference.get(name) else
                   (other[name] - reference[name]) / reference[name])
            for name in STAT_NAMES if name in reference and name in other}
