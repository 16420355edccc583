"""Melody extraction edge cases and meter handling (SPEC §1)."""

import numpy as np
import pytest

from data_pipelines.extraction import extract_melodies, extract_melody_spans
from data_pipelines.midi_source import pretty_midi_to_note_sequence
from data_pipelines.tokens import NOTE_OFF, pitch_to_token
from data_pipelines.windows import melody_windows, windows_from_file
from musicvae_tf.config import DataConfig
from data_pipelines.errors import MusicVAEError
from midi_factory import make_midi, make_sequence, scale_notes

CONFIG = DataConfig(num_bars=2)


def melodies_of(midi, config=CONFIG):
    return extract_melodies(pretty_midi_to_note_sequence(midi), config)


def tok(pitch):
    return pitch_to_token(pitch, CONFIG)


def test_simultaneous_notes_keep_the_highest_and_count_the_rest():
    melodies, skips = melodies_of(make_midi([(60, 0, 1), (64, 0, 1), (67, 0, 1), (62, 1, 2)]))
    assert len(melodies) == 1
    melody = melodies[0]
    assert len(melody) == 16
    assert melody[0] == tok(67) and melody[4] == tok(62) and melody[8] == NOTE_OFF
    assert skips["polyphony reduced"] == 2


def test_a_new_note_cuts_the_sounding_one():
    melody = melodies_of(make_midi([(60, 0, 2), (62, 1, 1.5)]))[0][0]
    assert melody[0] == tok(60) and melody[4] == tok(62) and melody[6] == NOTE_OFF
    assert list(melody[1:4]) == [0, 0, 0]


def test_a_silent_bar_splits_melodies_and_they_start_on_bar_boundaries():
    notes = [(60, 0, 4), (62, 8.5, 9)]  # bar 0, a silent bar 1, a note halfway into bar 2
    spans, _ = extract_melody_spans(pretty_midi_to_note_sequence(make_midi(notes)), CONFIG)
    assert [span.start_bar for span in spans] == [0, 2]
    second = spans[1].tokens
    assert len(second) % 16 == 0 and second[2] == tok(62) and second[:2].tolist() == [0, 0]
    # a gap shorter than a bar keeps one melody
    assert len(melodies_of(make_midi([(60, 0, 1), (62, 4, 5)]))[0]) == 1


def test_out_of_range_notes_drums_and_other_programs_are_dropped_and_counted():
    midi = make_midi([(15, 0, 1), (60, 1, 2), (120, 2, 3)],
                     tracks=[([(36, 0, 1), (38, 1, 2)], 0, True), ([(70, 0, 4)], 40, False)])
    melodies, skips = melodies_of(midi)
    assert len(melodies) == 1 and melodies[0][4] == tok(60)
    assert skips["out of range notes"] == 2
    assert skips["drums"] == 2
    assert skips["program filtered"] == 1
    # 16-bar configs accept every non-drum program
    melodies, skips = melodies_of(midi, DataConfig(num_bars=16, programs=None))
    assert len(melodies) == 2 and skips["program filtered"] == 0


def test_zero_velocity_notes_are_ignored():
    melodies, skips = extract_melodies(make_sequence([(60, 0, 0.5)]), CONFIG)
    assert len(melodies) == 1
    sequence = make_sequence([(60, 0, 0.5)])
    sequence.notes[0].velocity = 0
    melodies, skips = extract_melodies(sequence, CONFIG)
    assert melodies == [] and skips["zero velocity"] == 1


def test_tempo_change_splits_and_each_part_is_quantised_at_its_own_tempo():
    # 1 bar at 120 qpm (2 s), then 60 qpm: a quarter note lasts 1 s
    notes = [(60, 0.0, 0.5), (62, 2.0, 3.0), (64, 3.0, 4.0)]
    sequence = make_sequence(notes, tempos=((0.0, 120.0), (2.0, 60.0)))
    spans, _ = extract_melody_spans(sequence, CONFIG)
    assert [span.segment for span in spans] == [0, 1]
    assert spans[1].tokens[0] == tok(62) and spans[1].tokens[4] == tok(64)
    assert spans[1].tokens[8] == NOTE_OFF
    # a "change" to the same tempo does not split
    same = make_sequence(notes, tempos=((0.0, 120.0), (2.0, 120.0)))
    assert len(extract_melody_spans(same, CONFIG)[0]) == 1


def test_meter_change_splits_and_wrong_meters_are_counted_by_meter():
    notes = scale_notes(bars=2) + [(72, 8 + b * 3 + i, 9 + b * 3 + i) for b in range(2) for i in range(3)]
    midi = make_midi(notes, meter_changes=[(8, 3, 4)])
    spans, skips = extract_melody_spans(pretty_midi_to_note_sequence(midi), CONFIG)
    # the 4/4 part only: 2 bars; the last note ends on the bar line, so no bar for its note-off
    assert len(spans) == 1 and len(spans[0].tokens) == 32 and NOTE_OFF not in spans[0].tokens
    assert skips["meter 3/4"] == 1


def test_three_four_needs_twelve_steps_per_bar():
    notes = [(60 + i, i, i + 1) for i in range(12)]  # four 3/4 bars of quarter notes
    waltz = make_midi(notes, meter=(3, 4))
    with pytest.raises(MusicVAEError, match="wrong meter.*3/4"):
        windows_from_file(waltz, CONFIG)
    config12 = DataConfig(num_bars=2, steps_per_bar=12)
    windows = windows_from_file(waltz, config12)
    # 4 bars (the last note ends on the bar line: no extra bar) -> windows at bars 0..2
    assert len(windows) == 3 and all(w.tokens.shape == (24,) for w in windows)
    six_eight = make_midi(notes, meter=(6, 8))
    assert len(windows_from_file(six_eight, config12)) == 3


def test_windows_hop_one_bar_and_are_deduplicated():
    repeated = [(60, 0, 1), (62, 1, 2), (64, 2, 3), (65, 3, 4)] * 1
    notes = [(p, s + 4 * bar, e + 4 * bar) for bar in range(4) for p, s, e in repeated]
    spans, _ = extract_melody_spans(pretty_midi_to_note_sequence(make_midi(notes)), CONFIG)
    windows, skips = melody_windows(spans, CONFIG)
    # bars 0-1, 1-2, 2-3 are identical (no trailing bar: the last note ends on the bar line)
    assert len(windows) == 1 and skips["duplicates"] == 2
    assert [w.bar_offset for w in windows] == [0]


def test_reasons_for_no_windows():
    with pytest.raises(MusicVAEError, match="too short"):
        windows_from_file(make_midi([(60, 0, 1)]), DataConfig(num_bars=4))
    with pytest.raises(MusicVAEError, match="no notes"):
        windows_from_file(make_midi([]), CONFIG)
    with pytest.raises(MusicVAEError, match="no melody"):
        windows_from_file(make_midi([(36, 0, 8)], is_drum=True), CONFIG)
    np.testing.assert_array_equal(
        windows_from_file(make_midi(scale_notes(bars=3)), CONFIG)[0].tokens[:2], [tok(60), 0])


def test_fast_midi_reader_agrees_with_pretty_midi(tmp_path):
    from data_pipelines.midi_source import read_midi_file
    from midi_factory import write

    midi = make_midi(scale_notes(bars=4) + [(50, 0, 4), (52, 4, 8)], meter_changes=[(16, 3, 4)],
                     tracks=[([(36, 0, 1)], 0, True), ([(55, 1, 9), (57, 9, 12)], 5, False)])
    path = write(midi, tmp_path / "m.mid")
    fast = read_midi_file(str(path))
    slow = pretty_midi_to_note_sequence(midi)
    fast_melodies, fast_skips = extract_melodies(fast, CONFIG)
    slow_melodies, slow_skips = extract_melodies(slow, CONFIG)
    assert fast_skips == slow_skips and fast_skips["drums"] == 1
    assert sorted(m.tobytes() for m in fast_melodies) == sorted(m.tobytes() for m in slow_melodies)
    assert [(t.numerator, t.denominator) for t in fast.time_signatures] == [(4, 4), (3, 4)]
