"""The trio encoding: track typing, full bars and gap bridging, exact MIDI round trips and
transposition of melody and bass together."""

from __future__ import annotations

import numpy as np
import pretty_midi

from data_pipelines.data_config import DataConfig
from data_pipelines.encodings.trio import TrioEncoding, kept_runs
from data_pipelines.midi_source import pretty_midi_to_note_sequence, read_midi_file
from midi_factory import make_midi, write

CONFIG = DataConfig(num_bars=2, gap_bars=2)


def melody_notes(bars, first=60):
    """Quarter notes over the given bars, a different pitch per beat and bar."""
    return [(first + (bar * 4 + beat) % 12, bar * 4 + beat, bar * 4 + beat + 1)
            for bar in bars for beat in range(4)]


def bass_notes(bars):
    """Half notes over the given bars."""
    return [(36 + bar % 5, bar * 4 + half * 2, bar * 4 + half * 2 + 2)
            for bar in bars for half in range(2)]


def drum_notes(bars):
    """Kick on beats, closed hat on eighths."""
    return [note for bar in bars for beat in range(4)
            for note in ((36, bar * 4 + beat, bar * 4 + beat + 0.1),
                         (42, bar * 4 + beat + 0.5, bar * 4 + beat + 0.6))]


def trio_midi(melody_bars, bass_bars, drum_bars, extra_tracks=()):
    return make_midi(melody_notes(melody_bars), program=0,
                     tracks=[(bass_notes(bass_bars), 33, False),
                             (drum_notes(drum_bars), 0, True), *extra_tracks])


def test_sizes():
    encoding = TrioEncoding(DataConfig(num_bars=16))
    assert encoding.name == "trio"
    assert encoding.output_splits == (90, 90, 512)
    assert encoding.encoder_input_depth == 692
    assert encoding.window_shape == (256, 3)


def test_kept_runs_bridge_short_gaps():
    full = np.array([1, 1, 1, 0, 0, 1, 0, 0, 0, 1, 1], bool)
    assert kept_runs(full, 2) == [(0, 6), (9, 11)]
    assert kept_runs(full, 0) == [(0, 3), (5, 6), (9, 11)]
    assert kept_runs(np.zeros(4, bool), 2) == []


def test_windows_keep_bars_where_all_three_play():
    encoding = TrioEncoding(CONFIG)
    bars = range(11)
    # Melody silent in bars 3-4 (bridged) and 6-8 (not bridged).
    midi = trio_midi([0, 1, 2, 5, 9, 10], bars, bars)
    windows, skips = encoding.note_sequence_windows(pretty_midi_to_note_sequence(midi), "t")
    assert [w.bar_offset for w in windows] == [0, 1, 2, 3, 4, 9]
    assert all(w.tokens.shape == (32, 3) for w in windows)
    bridged = windows[3].tokens  # bars 3-4: no melody note-on
    assert not (bridged[:, 0] >= 2).any() and (bridged[:, 1] >= 2).any()
    assert skips["duplicates"] == 0


def test_track_typing_tries_every_combination():
    encoding = TrioEncoding(CONFIG)
    bars = range(2)
    second_melody = (melody_notes(bars, first=72), 25, False)  # a guitar: also a melody
    violin = (melody_notes(bars, first=50), 40, False)  # program 40: neither melody nor bass
    midi = trio_midi(bars, bars, bars, extra_tracks=[second_melody, violin])
    windows, skips = encoding.note_sequence_windows(pretty_midi_to_note_sequence(midi))
    assert len(windows) == 2
    assert sorted(int(w.tokens[0, 0]) for w in windows) == [60 - 21 + 2, 72 - 21 + 2]
    assert skips["program filtered"] == 8

    for missing, name in ((0, "no melody track"), (1, "no bass track"), (2, "no drums track")):
        tracks = [melody_notes(bars), bass_notes(bars), drum_notes(bars)]
        tracks[missing] = []
        midi = make_midi(tracks[0], tracks=[(tracks[1], 33, False), (tracks[2], 0, True)])
        windows, skips = encoding.note_sequence_windows(pretty_midi_to_note_sequence(midi))
        assert windows == [] and skips[name] == 1


def test_midi_round_trip_is_exact(tmp_path):
    from data_pipelines._note_seq import note_seq

    encoding = TrioEncoding(CONFIG)
    bars = range(3)
    # A held note ends on a bar line and the melody resumes a beat later.
    melody = melody_notes([0]) + [(70, 4, 8), (72, 9, 12)]
    midi = make_midi(melody, tracks=[(bass_notes(bars), 35, False),
                                     (drum_notes(bars), 0, True)])
    path = write(midi, tmp_path / "trio.mid")
    windows, _ = encoding.note_sequence_windows(read_midi_file(str(path)))
    assert [w.bar_offset for w in windows] == [0, 1]
    assert windows[0].tokens[16:, 0].tolist() == [70 - 21 + 2] + [0] * 15
    assert windows[1].tokens[16, 0] == 1  # NOTE_OFF where the held note ends
    for window in windows:
        sequence = encoding.to_note_sequence(window.tokens)
        out = tmp_path / "out.mid"
        note_seq.midi_io.sequence_proto_to_pretty_midi(sequence).write(str(out))
        written = pretty_midi.PrettyMIDI(str(out))
        assert sorted((i.program, i.is_drum) for i in written.instruments) == [
            (0, False), (0, True), (33, False)]
        np.testing.assert_array_equal(encoding.from_note_sequence(read_midi_file(str(out))),
                                      window.tokens)


def test_roll_lanes():
    encoding = TrioEncoding(CONFIG)
    windows, _ = encoding.note_sequence_windows(
        pretty_midi_to_note_sequence(trio_midi(range(2), range(2), range(2))))
    lanes = encoding.roll_lanes(windows[0].tokens)
    assert [lane.name for lane in lanes] == ["melody", "bass", "drums"]
    assert lanes[0].notes[0] == (60, 0, 4) and lanes[1].notes[0] == (36, 0, 8)
    assert len(lanes[2].row_names) == 9 and lanes[2].notes[0] == (0, 0, 1)


def test_transpose_moves_melody_and_bass_by_one_valid_shift():
    import tensorflow as tf

    encoding = TrioEncoding(CONFIG)
    window = np.zeros((1, 32, 3), np.int32)
    window[0, 0] = [86, 10, 5]  # melody 3 classes below the top (89)
    window[0, 8] = [1, 1, 0]
    shifted = encoding.transpose(tf.constant(window), tf.constant([0.999]), -5, 5).numpy()
    np.testing.assert_array_equal(shifted[0, 0], [89, 13, 5])
    np.testing.assert_array_equal(shifted[0, 8], [1, 1, 0])
    shifted = encoding.transpose(tf.constant(window), tf.constant([0.0]), -5, 5).numpy()
    np.testing.assert_array_equal(shifted[0, 0], [81, 5, 5])
    window[0, 0, 1] = 2  # the bass at the bottom: no shift down is valid
    shifted = encoding.transpose(tf.constant(window), tf.constant([0.0]), -5, 5).numpy()
    np.testing.assert_array_equal(shifted[0, 0], [86, 2, 5])
