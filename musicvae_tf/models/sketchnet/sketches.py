"""User sketches for ``inpaint --rhythm BAR=PATTERN --pitches BAR=C5,D5,E5``: parsing and checks.

A rhythm pattern has one character per step (``x`` onset, ``-`` hold, ``.`` rest); pitches are
note names (``C5``, ``F#4``, ``Bb3``; C4 = MIDI 60) or MIDI numbers, the bar's onsets in order.
``BAR`` is the piece's 1-based bar number and must lie in the gap. Every mistake is a one-line
UsageError."""

from __future__ import annotations

import dataclasses
import re

import numpy as np

from data_pipelines.errors import UsageError
from musicvae_tf.models.sketch_vae.factorise import ONSET, pattern_rhythm, pitch_tokens

NOTE_NAME = re.compile(r"^([A-Ga-g])([#b]*)(-?\d+)$")
SEMITONES = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}


@dataclasses.dataclass(frozen=True)
class Sketch:
    """What the user fixed for one missing bar: its rhythm row and/or its onset tokens."""

    rhythm: np.ndarray | None = None
    pitches: tuple[int, ...] | None = None


def note_number(text: str) -> int:
    """MIDI number of ``"C5"``, ``"F#4"``, ``"Bb3"`` or ``"72"``; UsageError otherwise."""
    text = text.strip()
    if re.fullmatch(r"\d+", text):
        return int(text)
    match = NOTE_NAME.match(text)
    if not match:
        raise UsageError(f"unknown note {text!r}: use a name such as C5, F#4, Bb3 or a MIDI number")
    letter, accidentals, octave = match.groups()
    return (int(octave) + 1) * 12 + SEMITONES[letter.lower()] + accidentals.count("#") \
        - accidentals.count("b")


def _bar_and_value(item: str, option: str, gap_start: int, gap_length: int) -> tuple[int, str]:
    bar, sep, value = item.partition("=")
    if not sep or not bar.strip().isdigit() or not value.strip():
        raise UsageError(f"{option} expects BAR=VALUE such as 8=x---x---x---x---, got {item!r}")
    index = int(bar) - 1 - gap_start
    if not 0 <= index < gap_length:
        raise UsageError(f"{option} {item}: bar {int(bar)} is not in the gap (bars "
                         f"{gap_start + 1}-{gap_start + gap_length})")
    return index, value.strip()


def parse_sketches(rhythms, pitches, gap_start: int, gap_length: int, data_config) -> dict:
    """``{gap bar index: Sketch}`` from ``--rhythm`` and ``--pitches`` strings."""
    given_rhythm, given_pitches = {}, {}
    for option, items, target in (("--rhythm", rhythms, given_rhythm),
                                  ("--pitches", pitches, given_pitches)):
        for item in items or []:
            index, value = _bar_and_value(item, option, gap_start, gap_length)
            if index in target:
                raise UsageError(f"{option} names bar {gap_start + index + 1} twice")
            if option == "--rhythm":
                target[index] = pattern_rhythm(value, data_config.steps_per_bar)
            else:
                numbers = [note_number(part) for part in value.split(",")]
                if len(numbers) > data_config.steps_per_bar:
                    raise UsageError(f"--pitches {item}: more onsets than the bar's "
                                     f"{data_config.steps_per_bar} steps")
                target[index] = tuple(pitch_tokens(numbers, data_config.min_pitch,
                                                   data_config.max_pitch))
    for index in set(given_rhythm) & set(given_pitches):
        onsets = int((given_rhythm[index] == ONSET).sum())
        if onsets != len(given_pitches[index]):
            raise UsageError(f"bar {gap_start + index + 1}: the rhythm has {onsets} onsets but "
                             f"--pitches gives {len(given_pitches[index])} pitches")
    return {index: Sketch(given_rhythm.get(index), given_pitches.get(index))
            for index in sorted(set(given_rhythm) | set(given_pitches))}
