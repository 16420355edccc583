"""The drum encoding: 9 classes, 512-class bitmask tokens, the 10-value roll input, drum-track
extraction with counted skips, and exact MIDI round trips."""

from __future__ import annotations

import numpy as np
import pretty_midi
import pytest

from data_pipelines.data_config import DataConfig
from data_pipelines.encodings.drums import (DRUM_CLASS_NAMES, DRUM_CLASS_PITCHES, DrumsEncoding,
                                            drum_class, hit_classes)
from data_pipelines.midi_source import read_midi_file
from midi_factory import make_midi, write

CONFIG = DataConfig(num_bars=2, gap_bars=1)
FIRST_PITCHES = (36, 38, 42, 46, 45, 48, 50, 49, 51)


def sequence_to_midi_file(sequence, path):
    """Write a NoteSequence as a MIDI file the way MIDI output does (note-seq -> pretty_midi)."""
    from data_pipelines._note_seq import note_seq

    note_seq.midi_io.sequence_proto_to_pretty_midi(sequence).write(str(path))
    return path


def groove(bars: int, start_bar: int = 0, variant: int = 0):
    """Drum notes (beats) of ``bars`` bars: kick on beats, closed hat on eighths, snare on 2
    and 4, and one bar-identifying tom so that bars differ when ``variant`` changes."""
    notes = []
    for bar in range(start_bar, start_bar + bars):
        for beat in range(4):
            time = bar * 4 + beat
            notes.append((36, time, time + 0.1))
            notes.append((42, time + 0.5, time + 0.6))
            if beat in (1, 3):
                notes.append((38, time, time + 0.1))
        notes.append((45 if (bar + variant) % 2 else 50, bar * 4 + 3.75, bar * 4 + 3.8))
    return notes


def test_sizes_and_window_shape():
    encoding = DrumsEncoding(CONFIG)
    assert encoding.name == "drums"
    assert encoding.output_splits == (512,)
    assert encoding.control_depth == 0
    assert encoding.encoder_input_depth == 10
    assert encoding.window_shape == (32,)


def test_classes_and_bitmask():
    for k, pitches in enumerate(DRUM_CLASS_PITCHES):
        assert pitches[0] == FIRST_PITCHES[k]
        assert all(drum_class(p) == k for p in pitches)
    all_pitches = [p for pitches in DRUM_CLASS_PITCHES for p in pitches]
    assert len(all_pitches) == len(set(all_pitches))
    assert drum_class(99) == -1
    assert hit_classes(0) == []
    assert hit_classes(1 + 2 + 256) == [0, 1, 8]
    assert hit_classes(511) == list(range(9))
    # Two pitches of one class (35 and 36 are both kicks) count once.
    midi = make_midi([(35, 0, 0.1), (36, 0, 0.1), (38, 0, 0.1), (51, 0.25, 0.3)], is_drum=True)
    from data_pipelines.midi_source import pretty_midi_to_note_sequence

    tokens = DrumsEncoding(CONFIG).from_note_sequence(pretty_midi_to_note_sequence(midi), 4)
    assert tokens.tolist() == [1 + 2, 256, 0, 0]


def test_roll_input():
    import tensorflow as tf

    tokens = tf.constant([[0, 1, 511, 2 + 256]])
    roll = DrumsEncoding(CONFIG).encoder_inputs(tokens).numpy()
    assert roll.shape == (1, 4, 10) and roll.dtype == np.float32
    np.testing.assert_array_equal(roll[0], [
        [0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
        [1, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        [1, 1, 1, 1, 1, 1, 1, 1, 1, 0],
        [0, 1, 0, 0, 0, 0, 0, 0, 1, 0],
    ])


def test_midi_round_trip_is_exact(tmp_path):
    # Every class hit somewhere, two at once, on the 16th grid, over 2 bars at 100 qpm.
    notes = [(pitch, 0.25 * (3 * k), 0.25 * (3 * k) + 0.1) for k, pitch in
             enumerate((35, 40, 44, 26, 41, 47, 62, 57, 53))]
    notes += [(36, 7.75, 7.8), (49, 7.75, 7.8)]
    path = write(make_midi(notes, is_drum=True, qpm=100.0,
                           tracks=[([(60, 0, 4)], 0, False)]), tmp_path / "drums.mid")
    encoding = DrumsEncoding(CONFIG)
    windows, skips = encoding.note_sequence_windows(read_midi_file(str(path)), "drums.mid")
    assert len(windows) == 1 and windows[0].source == "drums.mid"
    tokens = windows[0].tokens
    expected = np.zeros(32, np.int64)
    for k in range(9):
        expected[3 * k] = 1 << k
    expected[31] = 1 + (1 << 7)
    assert tokens.tolist() == expected.tolist()

    out = encoding.to_note_sequence(tokens, qpm=100.0)
    assert all(n.is_drum and n.velocity == 80 for n in out.notes)
    assert sorted({n.pitch for n in out.notes}) == sorted(FIRST_PITCHES)
    midi_path = sequence_to_midi_file(out, tmp_path / "out.mid")
    written = pretty_midi.PrettyMIDI(str(midi_path))
    assert [i.is_drum for i in written.instruments] == [True]
    np.testing.assert_array_equal(encoding.from_note_sequence(read_midi_file(str(midi_path))),
                                  tokens)


def test_drum_tracks_split_at_gaps_and_count_skips():
    encoding = DrumsEncoding(CONFIG)
    from data_pipelines.midi_source import pretty_midi_to_note_sequence

    # Bars 0-2, two silent bars, bars 5-6 (the same groove: duplicates), a lone bar 9.
    notes = groove(3) + groove(2, start_bar=5) + groove(1, start_bar=9)
    notes.append((99, 1.0, 1.1))  # a pitch in no class
    sequence = pretty_midi_to_note_sequence(make_midi(notes, is_drum=True))
    tracks, _ = encoding.drum_tracks(sequence)
    assert [(len(t) // 16, bar) for t, _, bar in tracks] == [(3, 0), (2, 5), (1, 9)]
    windows, skips = encoding.note_sequence_windows(sequence)
    assert [w.bar_offset for w in windows] == [0, 1]
    assert skips["too short"] == 1
    assert skips["duplicates"] == 1
    assert skips["unknown drum pitches"] == 1

    _, skips = encoding.note_sequence_windows(pretty_midi_to_note_sequence(
        make_midi([(60, 0, 8)])))
    assert skips["no drums"] == 1
    _, skips = encoding.note_sequence_windows(pretty_midi_to_note_sequence(
        make_midi(groove(3), is_drum=True, meter=(3, 4))))
    assert skips["meter 3/4"] == 1


def test_empty_windows_are_counted_when_gaps_are_long():
    from data_pipelines.midi_source import pretty_midi_to_note_sequence

    encoding = DrumsEncoding(DataConfig(num_bars=2, gap_bars=3))
    sequence = pretty_midi_to_note_sequence(make_midi(
        [(36, 0, 0.1), (36, 12, 12.1)], is_drum=True))
    windows, skips = encoding.note_sequence_windows(sequence)
    assert [w.bar_offset for w in windows] == [0, 2]
    assert skips["empty windows"] == 1


def test_roll_lanes_and_transpose():
    encoding = DrumsEncoding(CONFIG)
    tokens = np.zeros(32, np.int64)
    tokens[[0, 4]] = [1 + 2, 256]
    (lane,) = encoding.roll_lanes(tokens)
    assert lane.row_names == DRUM_CLASS_NAMES and len(lane.row_names) == 9
    assert lane.notes == [(0, 0, 1), (1, 0, 1), (8, 4, 5)]
    assert encoding.transpose(tokens, 0.5, -5, 5) is tokens
    with pytest.raises(ValueError):
        encoding.roll_lanes(np.array([512]))
