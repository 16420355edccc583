"""Windows match Magenta's melody converter token for token: one test per rule."""

import io
import warnings

import numpy as np
import pretty_midi

from data_pipelines.extraction import extract_melody_spans
from data_pipelines.midi_source import midi_bytes_to_note_sequence, pretty_midi_to_note_sequence
from data_pipelines.tokens import FIRST_PITCH_TOKEN, NO_EVENT, NOTE_OFF
from data_pipelines.windows import melody_windows
from midi_factory import make_midi
from musicvae_tf.config import DataConfig

CONFIG = DataConfig(num_bars=2, programs=None)


def spans_of(notes, config=CONFIG, **kwargs):
    return extract_melody_spans(pretty_midi_to_note_sequence(make_midi(notes, **kwargs)), config)[0]


def token(pitch):
    return pitch - 21 + FIRST_PITCH_TOKEN


def test_last_note_ending_on_a_bar_line_adds_no_bar():
    # two bars of half notes, the last ending exactly on the bar line of bar 2
    spans = spans_of([(60, 0, 2), (62, 2, 4), (64, 4, 6), (65, 6, 8)])
    assert len(spans[0].tokens) == 32 and NOTE_OFF not in spans[0].tokens
    # ending mid-bar keeps the note-off and pads the bar
    spans = spans_of([(60, 0, 2), (62, 2, 4), (64, 4, 5)])
    assert len(spans[0].tokens) == 32 and spans[0].tokens[20] == NOTE_OFF


def test_note_off_before_a_windows_first_note_on_becomes_no_event():
    # bar 0 ends with a note reaching the bar line, bar 1 starts with a quarter rest
    notes = [(60, 0, 4), (62, 5, 6), (64, 6, 8), (65, 8, 9), (67, 9, 12)]
    spans = spans_of(notes)
    assert spans[0].tokens[16] == NOTE_OFF  # inside the melody the note-off is real
    windows, _ = melody_windows(spans, CONFIG)
    second = next(w for w in windows if w.bar_offset == 1)
    assert second.tokens[0] == NO_EVENT and (second.tokens[:4] == NO_EVENT).all()
    assert second.tokens[4] == token(62)
    first = next(w for w in windows if w.bar_offset == 0)
    assert first.tokens[16] == NOTE_OFF


def test_melodies_are_cut_at_max_bars():
    notes = [(60 + (i % 5), i, i + 1) for i in range(4 * 12)]  # 12 bars of quarter notes
    config = DataConfig(num_bars=2, programs=None, max_bars=5)
    spans = spans_of(notes, config)
    assert len(spans) == 1 and len(spans[0].tokens) == 5 * 16
    windows, _ = melody_windows(spans, config)
    assert max(w.bar_offset for w in windows) == 3
    unlimited = DataConfig(num_bars=2, programs=None, max_bars=None)
    assert len(spans_of(notes, unlimited)[0].tokens) == 12 * 16
    assert DataConfig().max_bars == 100  # Magenta's melody configs


def test_a_note_on_cuts_a_longer_note_and_leaves_no_stale_note_off():
    # a whole note overlapped by a quarter note starting on beat 2 (same track)
    spans = spans_of([(72, 0, 4), (60, 1, 2), (62, 5, 6)])
    tokens = spans[0].tokens
    assert list(tokens[:9]) == [token(72), 0, 0, 0, token(60), 0, 0, 0, NOTE_OFF]
    assert NOTE_OFF not in tokens[9:20]  # the whole note's own end (step 16) is gone
    assert tokens[20] == token(62)


def test_empty_windows_are_dropped_unless_configured():
    # one bar of notes, a bar of rest inside the gap limit is impossible (gap ends the melody), so
    # build a 1-bar window config where the second bar only holds the final note-off
    notes = [(60, 0, 1), (62, 1, 2), (64, 2, 3), (65, 3, 4.5)]
    one_bar = DataConfig(num_bars=1, programs=None)
    spans = spans_of(notes, one_bar)
    kept, skips = melody_windows(spans, one_bar)
    assert len(kept) == 1 and skips["empty windows"] == 1
    keep_all = DataConfig(num_bars=1, programs=None, drop_empty_windows=False)
    kept, _ = melody_windows(spans_of(notes, keep_all), keep_all)
    assert len(kept) == 2 and (kept[1].tokens == NO_EVENT).all()  # its note-off became NO_EVENT


def test_tempo_and_meter_events_count_on_the_first_track_only():
    midi = make_midi([(60 + i % 7, i, i + 1) for i in range(16)],
                     tracks=[([(48, 0, 16)], 32, False)])
    raw = io.BytesIO()
    midi.write(raw)
    data = bytearray(raw.getvalue())
    # insert a 3/4 time signature and a tempo change into the second track (pretty_midi, and so
    # Magenta, ignore them there)
    import mido

    parsed = mido.MidiFile(file=io.BytesIO(bytes(data)))
    parsed.tracks[2].insert(0, mido.MetaMessage("time_signature", numerator=3, denominator=4,
                                                time=0))
    parsed.tracks[2].insert(1, mido.MetaMessage("set_tempo", tempo=1_000_000, time=0))
    out = io.BytesIO()
    parsed.save(file=out)
    warnings.simplefilter("ignore")  # pretty_midi warns about meta events off the first track
    ours = midi_bytes_to_note_sequence(out.getvalue())
    reference = pretty_midi_to_note_sequence(
        pretty_midi.PrettyMIDI(io.BytesIO(out.getvalue())))
    assert [(t.numerator, t.denominator) for t in ours.time_signatures] == [
        (t.numerator, t.denominator) for t in reference.time_signatures] == [(4, 4)]
    assert [round(t.qpm, 3) for t in ours.tempos] == [round(t.qpm, 3) for t in reference.tempos]
    np.testing.assert_allclose(sorted(n.start_time for n in ours.notes),
                               sorted(n.start_time for n in reference.notes), atol=1e-6)
