"""Chords for chord-conditioned models: the 49-class triad vocabulary (SPEC_MODELS §A3), chord
names, and the chords of a NoteSequence (its chord-symbol annotations, else inferred per bar).

Token 0 is no chord; ``1 + 12 * quality + root`` is a triad with ``root`` 0..11 (C..B) and
``quality`` 0 major, 1 minor, 2 augmented, 3 diminished.

Chord names: a root letter with optional ``#``/``b``, then a quality (``""``/``maj``/``M`` major,
``m``/``min``/``-`` minor, ``aug``/``+`` augmented, ``dim``/``o`` diminished); sevenths and
extensions keep their triad (``G7`` = G, ``Am7`` = Am, ``Bm7b5`` = Bdim, ``dim7`` = dim), as
note-seq's triad encoding does; a slash bass (``D/F#``) is ignored. Other qualities (``sus2``,
``sus4``, power chords ``C5``) map to the nearest triad, major, and are counted as
``"chords mapped to a triad"`` where a piece is read. Magenta instead raises an encoding error
for them and the whole piece yields no example. ``N.C.`` (also ``NC``, ``N``) is no chord.

Inference (when a piece has no chord-symbol annotation): per bar, the pitch classes of the given
notes weighted by how many steps they sound in the bar; the triad with the highest score
(weight inside the triad minus weight outside it) wins, ties going to the triad whose root is
the bar's lowest note, then to major, minor, diminished, augmented; a silent bar is no chord.
Magenta infers chords with an HMM over the whole piece and rejects a piece when inference fails;
this per-bar rule never fails.
"""

from __future__ import annotations

import re

import numpy as np

NO_CHORD = 0
NUM_CHORD_CLASSES = 49
NOTE_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
QUALITY_SUFFIXES = ("", "m", "aug", "dim")
TRIAD_INTERVALS = ((0, 4, 7), (0, 3, 7), (0, 4, 8), (0, 3, 6))
NO_CHORD_TEXT = "N.C."

_LETTERS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_ROOT = re.compile(r"\s*([A-Ga-g])([#b♯♭]*)(.*?)\s*$")
# Checked in order against the text after the root (slash bass removed).
_QUALITIES = (
    (re.compile(r"(m7b5|m7-5|ø|-7b5)"), 3),
    (re.compile(r"(dim|o|°)"), 3),
    (re.compile(r"(aug|\+)"), 2),
    (re.compile(r"(maj|M|Δ)"), 0),
    (re.compile(r"(min|m|-)"), 1),
)
_NOT_A_TRIAD = re.compile(r"sus|^5$|no3")
_MAJOR_EXTENSIONS = re.compile(r"^(\d+|add\d+|[#b]\d+|\(.*\))*$")


def chord_token(root: int, quality: int) -> int:
    """The token of a triad: ``root`` 0..11 (C..B), ``quality`` 0..3 (major, minor, aug, dim)."""
    return 1 + 12 * quality + root % 12


def chord_root_quality(token: int) -> tuple[int, int]:
    """``(root, quality)`` of a triad token (not of :data:`NO_CHORD`)."""
    return (int(token) - 1) % 12, (int(token) - 1) // 12


def chord_pitch_classes(token: int) -> tuple[int, ...]:
    """The three pitch classes of a triad token; empty for no chord."""
    if token == NO_CHORD:
        return ()
    root, quality = chord_root_quality(token)
    return tuple((root + interval) % 12 for interval in TRIAD_INTERVALS[quality])


def chord_name(token: int) -> str:
    """A chord token's name: ``"C"``, ``"F#m"``, ``"Bbaug"``, ``"Bdim"``, ``"N.C."``."""
    if not 0 <= int(token) < NUM_CHORD_CLASSES:
        raise ValueError(f"chord tokens lie in 0..{NUM_CHORD_CLASSES - 1}, not {token}")
    if token == NO_CHORD:
        return NO_CHORD_TEXT
    root, quality = chord_root_quality(token)
    return NOTE_NAMES[root] + QUALITY_SUFFIXES[quality]


def parse_chord_symbol(name: str) -> tuple[int, bool]:
    """``(token, exact)`` for a chord name; ``exact`` is False when a quality outside the four
    triads (``sus4``, ``C5``) was mapped to the nearest triad. ValueError if it is not a chord."""
    text = name.strip()
    if text.upper().replace(".", "") in ("NC", "N", "NONE", ""):
        return NO_CHORD, True
    match = _ROOT.match(text.split("/")[0])
    if match is None:
        raise ValueError(f"not a chord name: {name!r}")
    letter, accidentals, rest = match.groups()
    root = _LETTERS[letter.upper()] + sum(1 if a in "#♯" else -1 for a in accidentals)
    if _NOT_A_TRIAD.search(rest):
        return chord_token(root, 0), False
    for pattern, quality in _QUALITIES:
        if pattern.match(rest):
            return chord_token(root, quality), True
    if _MAJOR_EXTENSIONS.match(rest):
        return chord_token(root, 0), True
    raise ValueError(f"not a chord name: {name!r}")


def parse_chord(name: str) -> int:
    """The token of a chord name (qualities outside the four triads map to the nearest one)."""
    return parse_chord_symbol(name)[0]


def parse_progression(text: str) -> list[int]:
    """Chord tokens of a progression such as ``"C G Am F"`` (spaces, commas or bars ``|``)."""
    names = [name for name in re.split(r"[\s,|]+", text) if name]
    if not names:
        raise ValueError("empty chord progression")
    return [parse_chord(name) for name in names]


def format_progression(tokens) -> str:
    """The names of chord tokens joined by spaces (the inverse of :func:`parse_progression`)."""
    return " ".join(chord_name(int(token)) for token in tokens)


def progression_steps(chords, steps_per_bar: int, num_bars: int | None = None) -> np.ndarray:
    """Per-step chord tokens for one chord per bar; the progression repeats to fill
    ``num_bars`` bars (default: one bar per chord)."""
    chords = np.asarray(list(chords), np.int16)
    if chords.size == 0:
        raise ValueError("empty chord progression")
    num_bars = len(chords) if num_bars is None else num_bars
    return np.repeat(np.resize(chords, num_bars), steps_per_bar)


def transpose_chord(token: int, shift: int) -> int:
    """A chord token moved by ``shift`` semitones (no chord stays no chord)."""
    if token == NO_CHORD:
        return NO_CHORD
    root, quality = chord_root_quality(token)
    return chord_token(root + shift, quality)


def chord_changes_at_steps(changes, num_steps: int) -> np.ndarray:
    """Per-step tokens from ``[(step, token)]`` changes in time order: each step holds the last
    change at or before it (no chord before the first); changes before step 0 count at 0."""
    steps = np.full(num_steps, NO_CHORD, np.int16)
    for step, token in changes:
        steps[max(0, step):] = token
    return steps


def best_triad(weights, lowest_pitch_class: int | None = None) -> int:
    """The triad token best matching 12 pitch-class ``weights`` (no chord when all are 0)."""
    weights = np.asarray(weights, np.float64)
    total = weights.sum()
    if total <= 0:
        return NO_CHORD
    best, best_key = NO_CHORD, None
    for quality, preference in ((0, 3), (1, 2), (3, 1), (2, 0)):
        for root in range(12):
            token = chord_token(root, quality)
            inside = weights[list(chord_pitch_classes(token))].sum()
            key = (2 * inside - total, root == lowest_pitch_class, preference)
            if best_key is None or key > best_key:
                best, best_key = token, key
    return best


def infer_chords(notes, num_steps: int, steps_per_bar: int) -> np.ndarray:
    """Per-step chord tokens inferred bar by bar from ``notes`` = [(pitch, start, end)] in steps."""
    chords = np.full(num_steps, NO_CHORD, np.int16)
    for bar_start in range(0, num_steps, steps_per_bar):
        bar_end = min(bar_start + steps_per_bar, num_steps)
        weights = np.zeros(12)
        lowest = None
        for pitch, start, end in notes:
            overlap = min(end, bar_end) - max(start, bar_start)
            if overlap > 0:
                weights[pitch % 12] += overlap
                lowest = pitch if lowest is None else min(lowest, pitch)
        chords[bar_start:bar_end] = best_triad(weights, None if lowest is None else lowest % 12)
    return chords


def annotated_chords(note_sequence, skips=None) -> list[tuple[float, int]]:
    """``[(time, token)]`` of a NoteSequence's chord-symbol annotations, in time order.

    With a ``skips`` Counter, unreadable symbols (read as no chord) are counted as
    ``"unreadable chord symbols"`` and non-triad qualities as ``"chords mapped to a triad"``.
    """
    from data_pipelines._note_seq import NoteSequence

    chord_type = NoteSequence.TextAnnotation.CHORD_SYMBOL
    changes = []
    for annotation in sorted((a for a in note_sequence.text_annotations
                              if a.annotation_type == chord_type), key=lambda a: a.time):
        try:
            token, exact = parse_chord_symbol(annotation.text)
        except ValueError:
            token, exact = NO_CHORD, True
            if skips is not None:
                skips["unreadable chord symbols"] += 1
        if not exact and skips is not None:
            skips["chords mapped to a triad"] += 1
        changes.append((float(annotation.time), token))
    return changes
