"""ABC tunes and tunebooks to NoteSequence via music21 (which accepts folk ABC's variant endings,
tuplets and inline key changes that note-seq's ABC parser rejects).

A tunebook file holds many tunes, each starting at an ``X:`` line; tune ``n`` (1-based, in file
order) is the piece ``path#n``. Music21 streams are converted to notes directly (no MIDI detour):
ties are merged, grace notes dropped, chord symbols (``"Am"``) kept as chord-symbol text
annotations (not as notes), and an anacrusis is shifted so that bar lines fall on the bar grid.
Repeats and variant endings are played out (an AABB tune of 8-bar parts is 32 bars, as it
sounds), which is what gives folk tunes their 16-bar windows. ABC tempo marks are ignored
(positions are kept in quarter notes at 120 qpm, all quantisation needs).
"""

from __future__ import annotations

import contextlib
import re
import warnings

from data_pipelines.errors import MusicVAEError

SECONDS_PER_QUARTER = 0.5  # 120 qpm
_TUNE_START = re.compile(r"(?m)^(?=X:)")


def read_abc_text(path: str) -> str:
    """The text of an ABC file (undecodable bytes replaced)."""
    try:
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8", errors="replace")
    except OSError as exc:
        raise MusicVAEError(f"cannot read {path}: {exc.strerror or exc}") from None


def split_tunebook(text: str) -> list[str]:
    """The tunes of an ABC file, in order; a file without ``X:`` lines is one tune."""
    parts = _TUNE_START.split(text)
    tunes = [part for part in parts[1:] if part.strip()]
    if not tunes and text.strip():
        tunes = [text]
    return tunes


def abc_tune_to_note_sequence(text: str, name: str = "<abc>"):
    """Parse one ABC tune into a NoteSequence (one instrument per voice)."""
    from music21 import abcFormat
    from music21.abcFormat import translate

    try:
        with warnings.catch_warnings(), _without_beaming():
            warnings.simplefilter("ignore")
            handler = abcFormat.ABCHandler()
            handler.process(text)
            score = translate.abcToStreamScore(handler)
            return _score_to_note_sequence(score, name)
    except MusicVAEError:
        raise
    except Exception as exc:  # music21 raises many exception types on odd ABC
        raise MusicVAEError(f"{name}: music21 cannot parse this tune ({type(exc).__name__})") from None


def _expanded(score):
    """The score with its repeats and variant endings played out (unchanged if music21 cannot)."""
    try:
        return score.expandRepeats()
    except Exception:  # music21 raises several types on inconsistent repeat marks
        return score


@contextlib.contextmanager
def _without_beaming():
    """Skip music21's beaming pass during import: it is notation only and ~70% of parse time."""
    from music21 import stream

    original = stream.Stream.makeBeams
    stream.Stream.makeBeams = lambda self, *args, **kwargs: None
    try:
        yield
    finally:
        stream.Stream.makeBeams = original


def _score_to_note_sequence(score, name: str):
    from music21 import stream

    from data_pipelines._note_seq import NoteSequence

    sequence = NoteSequence()
    sequence.filename = name
    sequence.ticks_per_quarter = 220
    sequence.tempos.add(time=0.0, qpm=60.0 / SECONDS_PER_QUARTER)
    score = _expanded(score)
    parts = list(score.parts) or [score]
    meters: dict[float, tuple[int, int]] = {}
    for part_index, part in enumerate(parts):
        measures = list(part.getElementsByClass(stream.Measure))
        if not measures:
            measures = [part]
        for position, _measure, meter in _place_measures(measures):
            bar_start = position - position % _bar_length(meter)
            meters.setdefault(bar_start * SECONDS_PER_QUARTER, meter)
        open_ties: dict[int, object] = {}
        for position, measure, _ in _place_measures(measures):
            _add_measure_notes(sequence, measure, position, part_index, open_ties)
    for time in sorted(meters):
        numerator, denominator = meters[time]
        if not sequence.time_signatures or (
                (sequence.time_signatures[-1].numerator,
                 sequence.time_signatures[-1].denominator) != (numerator, denominator)):
            sequence.time_signatures.add(time=time, numerator=numerator, denominator=denominator)
    sequence.total_time = max((n.end_time for n in sequence.notes), default=0.0)
    return sequence


def _measure_meters(measures) -> list[tuple[int, int] | None]:
    """The time signature each measure starts, ignoring one-measure blips that music21's re-barring
    inserts for short measures (e.g. a 1/16 measure between two 2/4 measures)."""
    from music21 import meter

    found = []
    for measure in measures:
        marks = list(measure.getElementsByClass(meter.TimeSignature))
        found.append((marks[0].numerator, marks[0].denominator) if marks else None)
    current = None
    result: list[tuple[int, int] | None] = []
    for index, value in enumerate(found):
        following = found[index + 1] if index + 1 < len(found) else None
        if value is not None and current is not None and following == current:
            value = None
        if value is not None and value != current:
            current = value
            result.append(value)
        else:
            result.append(None)
    return result


def _place_measures(measures):
    """Yield ``(position in quarters, measure, meter)`` on a bar grid.

    A short first measure is an anacrusis (right-aligned in its bar); a short measure followed by
    one that would overflow the bar (a pickup into the next section) is right-aligned too; two
    short measures that fill one bar together (section end + pickup) share it.
    """
    meters = _measure_meters(measures)
    meter = (4, 4)
    position = 0.0
    for index, measure in enumerate(measures):
        if meters[index] is not None:
            meter = meters[index]
            position = _next_bar(position, _bar_length(meter))
        bar = _bar_length(meter)
        length = float(measure.duration.quarterLength)
        into_bar = position % bar
        if into_bar > 1e-6 and into_bar + length > bar + 1e-6:
            position = _next_bar(position, bar)
            into_bar = 0.0
        if into_bar <= 1e-6 and length < bar - 1e-6:
            following = measures[index + 1] if index + 1 < len(measures) else None
            if index == 0 or (following is not None
                              and length + float(following.duration.quarterLength) > bar + 1e-6):
                position += bar - length
        yield position, measure, meter
        position += length


def _bar_length(meter: tuple[int, int]) -> float:
    return 4.0 * meter[0] / meter[1]


def _next_bar(position: float, bar: float) -> float:
    steps = position / bar
    return position if abs(steps - round(steps)) < 1e-6 else (int(steps) + 1) * bar


def _add_measure_notes(sequence, measure, position: float, instrument: int, open_ties: dict) -> None:
    """Append the measure's notes (ties merged, grace notes dropped) and its chord symbols (as
    chord-symbol text annotations)."""
    from music21 import harmony

    from data_pipelines._note_seq import NoteSequence

    for offset, element in _measure_notes(measure):
        begin = (position + offset) * SECONDS_PER_QUARTER
        if isinstance(element, harmony.ChordSymbol):
            sequence.text_annotations.add(time=begin, text=element.figure,
                                          annotation_type=NoteSequence.TextAnnotation.CHORD_SYMBOL)
            continue
        if element.duration.isGrace:
            continue
        length = float(element.quarterLength)
        if length <= 0:
            continue
        finish = begin + length * SECONDS_PER_QUARTER
        tie = element.tie.type if element.tie is not None else None
        for pitch in element.pitches:
            midi = pitch.midi
            held = open_ties.pop(midi, None)
            # ABC writers also use "-" between different pitches as a slur; only a tie that
            # continues the same pitch without a gap lengthens the held note.
            if held is not None and tie in ("stop", "continue") and abs(held.end_time - begin) < 1e-6:
                held.end_time = finish
                if tie == "continue":
                    open_ties[midi] = held
                continue
            note = sequence.notes.add(pitch=midi, velocity=80, instrument=instrument,
                                      program=0, start_time=begin, end_time=finish)
            if tie in ("start", "continue"):
                open_ties[midi] = note


def _measure_notes(measure):
    """``(offset in the measure, note or chord)`` for the measure's notes, voices included."""
    from music21 import chord, note, stream

    for element in measure:
        if isinstance(element, stream.Voice):
            base = float(element.offset)
            for inner in element.notes:
                yield base + float(inner.offset), inner
        elif isinstance(element, (note.Note, chord.Chord)):
            yield float(element.offset), element
