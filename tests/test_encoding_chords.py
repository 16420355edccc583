"""Chord-conditioned melody: chord names, the 49-class triads, chords from chord tracks and ABC
chord symbols, exact round trips, de-duplication with chords, and transposition."""

from __future__ import annotations

import numpy as np
import pytest

from data_pipelines.abc_source import abc_tune_to_note_sequence
from data_pipelines.chord_inference import (NO_CHORD, best_triad, chord_name, format_progression,
                                            infer_chords, parse_chord, parse_chord_symbol,
                                            parse_progression, progression_steps,
                                            transpose_chord)
from data_pipelines.data_config import DataConfig
from data_pipelines.encodings.chords import CHORD_PROGRAM, ChordMelodyEncoding
from data_pipelines.midi_source import pretty_midi_to_note_sequence, read_midi_file
from midi_factory import make_midi, write

CONFIG = DataConfig(num_bars=2)
C, G, AM, F = 1, 8, 22, 6
TRIADS = {0: (0, 4, 7), 1: (0, 3, 7), 2: (0, 4, 8), 3: (0, 3, 6)}


def block_chords(chords, beats_per_chord=4, base=48):
    """Block-chord notes: one root-position triad per ``(root, quality)`` per bar."""
    return [(base + root + interval, index * beats_per_chord, (index + 1) * beats_per_chord)
            for index, (root, quality) in enumerate(chords) for interval in TRIADS[quality]]


def tune(bars, first=60):
    """Quarter notes, a different pitch per beat and bar."""
    return [(first + (bar * 4 + beat) % 9, bar * 4 + beat, bar * 4 + beat + 1)
            for bar in range(bars) for beat in range(4)]


def test_sizes():
    encoding = ChordMelodyEncoding(CONFIG)
    assert encoding.name == "melody_chords"
    assert encoding.output_splits == (90,)
    assert encoding.control_depth == 49
    assert encoding.encoder_input_depth == 139
    assert encoding.window_shape == (32, 2)


@pytest.mark.parametrize("name, token, exact", [
    ("C", 1, True), ("G", 8, True), ("B", 12, True), ("Am", 22, True), ("F#dim", 43, True),
    ("Bbaug", 35, True), ("N.C.", 0, True), ("NC", 0, True), ("Ebmin", 16, True),
    ("G7", 8, True), ("Am7", 22, True), ("Cmaj7", 1, True), ("Bm7b5", 48, True),
    ("C+", 25, True), ("Co", 37, True), ("D/F#", 3, True), ("Csus4", 1, False),
    ("G5", 8, False),
])
def test_parse_chord_names(name, token, exact):
    assert parse_chord_symbol(name) == (token, exact)


def test_names_round_trip_and_progressions():
    assert [chord_name(t) for t in (0, 1, 2, 13, 36, 48)] == [
        "N.C.", "C", "C#", "Cm", "Baug", "Bdim"]
    assert all(parse_chord(chord_name(t)) == t for t in range(49))
    assert parse_progression("C G Am F") == [C, G, AM, F]
    assert parse_progression("C, G | Am  F") == [C, G, AM, F]
    assert format_progression([C, G, AM, F]) == "C G Am F"
    for bad in ("H", "Cxyz", "7"):
        with pytest.raises(ValueError):
            parse_chord(bad)
    with pytest.raises(ValueError):
        chord_name(49)
    assert progression_steps([C, G], 4).tolist() == [C] * 4 + [G] * 4
    assert progression_steps([C, G], 2, num_bars=3).tolist() == [C, C, G, G, C, C]
    encoding = ChordMelodyEncoding(CONFIG)
    assert encoding.chord_steps("C G").tolist() == [C] * 16 + [G] * 16
    steps = encoding.chord_steps("C G Am F")
    assert steps.shape == (64,) and steps[::16].tolist() == [C, G, AM, F]
    assert transpose_chord(12, 1) == 1 and transpose_chord(AM, 3) == 13
    assert transpose_chord(NO_CHORD, 2) == NO_CHORD


def test_best_triad_and_per_bar_inference():
    for quality, intervals in TRIADS.items():
        for root in (0, 5, 11):
            weights = np.zeros(12)
            weights[[(root + i) % 12 for i in intervals]] = 1
            assert best_triad(weights, root) == 1 + 12 * quality + root
    assert best_triad(np.zeros(12)) == NO_CHORD
    # G7 in root position is G, not B diminished.
    assert best_triad(np.eye(12)[[7, 11, 2, 5]].sum(axis=0), 7) == G
    notes = [(57, 0, 4), (60, 0, 4), (64, 0, 4), (55, 8, 12), (59, 8, 12), (62, 8, 12)]
    assert infer_chords(notes, 12, 4).tolist() == [AM] * 4 + [NO_CHORD] * 4 + [G] * 4


def test_chords_inferred_from_a_chord_track():
    encoding = ChordMelodyEncoding(CONFIG)
    midi = make_midi(tune(4), program=0, tracks=[
        (block_chords([(0, 0), (7, 0), (9, 1), (5, 0)]), 48, False)])
    windows, skips = encoding.note_sequence_windows(pretty_midi_to_note_sequence(midi))
    # The melody's windows (the chord track is outside programs 0-31: program filtered).
    assert [w.bar_offset for w in windows] == [0, 1, 2]
    assert [w.tokens[::16, 1].tolist() for w in windows] == [[C, G], [G, AM], [AM, F]]
    assert skips["program filtered"] == 12


def test_chords_from_abc_chord_symbols():
    text = """X:1
T:Chords
M:4/4
L:1/8
K:G
"G"GABc "Em"dedB|"Am"c2B2 "D7"A4|"N.C."G2A2 "Gsus4"B4|G8|
"""
    sequence = abc_tune_to_note_sequence(text, "tune.abc#1")
    assert [(a.time, a.text) for a in sequence.text_annotations] == [
        (0.0, "G"), (1.0, "Em"), (2.0, "Am"), (3.0, "D7"), (4.0, "N.C."), (5.0, "Gsus4")]
    encoding = ChordMelodyEncoding(CONFIG)
    windows, skips = encoding.note_sequence_windows(sequence)
    assert [w.bar_offset for w in windows] == [0, 1, 2]
    assert windows[0].tokens[::8, 1].tolist() == [G, 17, AM, 3]  # G Em | Am D
    assert windows[1].tokens[::8, 1].tolist() == [AM, 3, NO_CHORD, G]  # Am D | N.C. Gsus4->G
    assert windows[2].tokens[16:, 1].tolist() == [G] * 16  # held into the last bar
    assert skips["chords mapped to a triad"] == 1

    annotation = sequence.text_annotations.add(time=6.0, text="Xq")
    annotation.annotation_type = annotation.CHORD_SYMBOL
    windows, skips = encoding.note_sequence_windows(sequence)
    assert windows[2].tokens[16:, 1].tolist() == [NO_CHORD] * 16
    assert skips["unreadable chord symbols"] == 1


def test_same_melody_under_other_chords_is_kept():
    encoding = ChordMelodyEncoding(CONFIG)
    melody = tune(2) + [(n[0], n[1] + 8, n[2] + 8) for n in tune(2)]
    chords = block_chords([(0, 0), (7, 0), (9, 1), (5, 0)])
    windows, skips = encoding.note_sequence_windows(pretty_midi_to_note_sequence(
        make_midi(melody, tracks=[(chords, 48, False)])))
    melodies = [w.tokens[:, 0].tobytes() for w in windows]
    assert len(windows) == 3 and melodies[0] == melodies[2]
    assert skips["duplicates"] == 0


def test_round_trip_through_note_sequence_and_midi(tmp_path):
    from data_pipelines._note_seq import note_seq

    encoding = ChordMelodyEncoding(CONFIG)
    midi = make_midi(tune(2), tracks=[(block_chords([(9, 1), (2, 3)]), 48, False)])
    path = write(midi, tmp_path / "in.mid")
    (window,), _ = encoding.note_sequence_windows(read_midi_file(str(path)))
    assert window.tokens[::16, 1].tolist() == [AM, 1 + 36 + 2]
    tokens = window.tokens.copy()
    tokens[20:24, 1] = G  # a change within a bar: kept by the annotations
    tokens[24:, 1] = NO_CHORD
    sequence = encoding.to_note_sequence(tokens)
    assert [(a.text, a.time) for a in sequence.text_annotations] == [
        ("Am", 0.0), ("Ddim", 2.0), ("G", 2.5), ("N.C.", 3.0)]
    accompaniment = sorted((n.start_time, n.pitch) for n in sequence.notes if n.instrument == 1)
    assert accompaniment[:3] == [(0.0, 57), (0.0, 60), (0.0, 64)]
    assert {n.program for n in sequence.notes if n.instrument == 1} == {CHORD_PROGRAM}
    np.testing.assert_array_equal(encoding.from_note_sequence(sequence), tokens)

    # MIDI keeps no annotation: the block chords give the chords back by inference.
    out = tmp_path / "out.mid"
    note_seq.midi_io.sequence_proto_to_pretty_midi(encoding.to_note_sequence(window.tokens)
                                                   ).write(str(out))
    np.testing.assert_array_equal(encoding.from_note_sequence(read_midi_file(str(out))),
                                  window.tokens)
    lanes = encoding.roll_lanes(window.tokens)
    assert [lane.name for lane in lanes] == ["melody", "chords"]
    assert lanes[1].notes[:3] == [(57, 0, 16), (60, 0, 16), (64, 0, 16)]


def test_transpose_moves_melody_and_chord_roots_together():
    import tensorflow as tf

    encoding = ChordMelodyEncoding(CONFIG)
    window = np.zeros((1, 32, 2), np.int32)
    window[0, :, 1] = NO_CHORD
    window[0, 0] = [10, 12]  # B major
    window[0, 1] = [1, AM]
    window[0, 2] = [87, 48]  # melody 2 below the top; B diminished
    shifted = encoding.transpose(tf.constant(window), tf.constant([0.999]), -3, 3).numpy()[0]
    assert shifted[:3].tolist() == [[12, 2], [1, 24], [89, 38]]  # +2: C#, Bm, C#dim
    assert shifted[3].tolist() == [0, NO_CHORD]
    shifted = encoding.transpose(tf.constant(window), tf.constant([0.0]), -3, 3).numpy()[0]
    assert shifted[:3].tolist() == [[7, 9], [1, 19], [84, 45]]  # -3: Ab, F#m, Abdim
