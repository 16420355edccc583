"""The pianotree encoding: MIDI -> tree -> MIDI round trips, counted truncation, transposition,
the music21 Bach source and the roll lanes."""

from __future__ import annotations


import numpy as np
import pretty_midi
import pytest
import tensorflow as tf
from midi_factory import make_midi
from pianotree_support import chord_midi, chord_notes

from data_pipelines.encodings import encoding_for
from data_pipelines.encodings.pianotree import PAD, duration_bits, notes_to_tree, tree_notes
from data_pipelines.midi_source import pretty_midi_to_note_sequence
from musicvae_tf.config import load_config


@pytest.fixture(scope="module")
def encoding():
    return encoding_for(load_config("demo-pianotree_2bar").data)


def _notes_in_steps(midi):
    step = 60.0 / 120.0 / 4
    return sorted((n.pitch, round(n.start / step), round(n.end / step))
                  for inst in midi.instruments for n in inst.notes)


def test_midi_tree_midi_round_trip_is_exact(encoding, tmp_path):
    midi = chord_midi()
    windows, skips = encoding.note_sequence_windows(pretty_midi_to_note_sequence(midi), "x")
    assert len(windows) == 1 and not skips.get("onsets over max_notes")
    tree = windows[0].tokens
    assert tree.shape == encoding.window_shape == (32, 14, 2)
    assert (tree[0, :, 0] < PAD).sum() == 5  # bass, triad, first sixteenth start together
    path = encoding.write_midi(tree, tmp_path / "back.mid")
    assert _notes_in_steps(pretty_midi.PrettyMIDI(str(path))) == _notes_in_steps(midi)
    again = encoding.from_note_sequence(encoding.to_note_sequence(tree))
    np.testing.assert_array_equal(again, tree)


def test_steps_are_sorted_by_pitch_and_durations_stored_minus_one(encoding):
    tree = notes_to_tree([0, 0, 0, 5], [67, 60, 64, 72], [32, 1, 4, 2], 32, 14)
    assert tree[0, :3].tolist() == [[60, 0], [64, 3], [67, 31]]
    assert tree[0, 3, 0] == PAD and tree[5, 0].tolist() == [72, 1]
    assert tree_notes(tree) == [(60, 0, 1), (64, 0, 4), (67, 0, 32), (72, 5, 7)]


def test_too_many_onsets_are_truncated_and_counted(encoding):
    # Step 0: 40..56 and chord_notes' 48 (the same pitch: once), 60, 64, 67, 79: 21 onsets.
    notes = [(40 + k, 0.0, 1.0) for k in range(17)] + chord_notes()
    windows, skips = encoding.note_sequence_windows(
        pretty_midi_to_note_sequence(make_midi(notes)), "crowded")
    assert skips["onsets over max_notes"] == 21 - 14
    assert windows[0].tokens[0, :, 0].tolist() == list(range(40, 54))


def test_long_notes_are_cut_to_32_steps_and_counted(encoding):
    windows, skips = encoding.note_sequence_windows(
        pretty_midi_to_note_sequence(make_midi([(60, 0.0, 12.0), (64, 4.0, 5.0)])), "long")
    assert skips["long notes cut"] == 1
    assert windows[0].tokens[0, 0].tolist() == [60, 31]


def test_duration_bits_are_msb_first():
    np.testing.assert_array_equal(duration_bits(tf.constant([0, 1, 16, 31])).numpy(),
                                  [[0, 0, 0, 0, 0], [0, 0, 0, 0, 1], [1, 0, 0, 0, 0],
                                   [1, 1, 1, 1, 1]])


def test_encoder_inputs_are_note_vectors_with_zero_pad_slots(encoding):
    tree = notes_to_tree([0, 0], [60, 62], [3, 1], 32, 14)
    vectors = encoding.encoder_inputs(tf.constant(tree[None])).numpy()
    assert vectors.shape == (1, 32, 14, 135)
    assert vectors[0, 0, 0, 60] == 1 and vectors[0, 0, 0, 130:].tolist() == [0, 0, 0, 1, 0]
    assert not vectors[0, 0, 2:].any() and not vectors[0, 1:].any()


def test_transpose_keeps_every_pitch_in_range(encoding):
    tree = notes_to_tree([0, 3], [2, 125], [1, 1], 32, 14)
    batch = tf.constant(np.stack([tree, tree]))
    shifted = encoding.transpose(batch, tf.constant([0.0, 0.999]), -5, 6).numpy()
    pitches = shifted[..., 0][shifted[..., 0] < PAD].reshape(2, -1)
    assert pitches.tolist() == [[0, 123], [4, 127]]  # shifts -2 and +2, the limits
    np.testing.assert_array_equal(shifted[..., 1], batch.numpy()[..., 1])


def test_a_pitch_starting_again_ends_the_note_still_sounding(encoding):
    tree = notes_to_tree([0, 4], [60, 60], [8, 2], 32, 14)
    played = [(n.pitch, n.start_time, n.end_time) for n in encoding.to_note_sequence(tree).notes]
    assert sorted(played) == [(60, 0.0, 0.5), (60, 0.5, 0.75)]


def test_roll_lane_draws_every_note(encoding):
    tree = notes_to_tree([0, 0], [60, 64], [4, 2], 32, 14)
    (lane,) = encoding.roll_lanes(tree)
    assert sorted(lane.notes) == [(60, 0, 4), (64, 0, 2)]


def test_music21_bach_chorales_are_a_polyphonic_source():
    from data_pipelines.sources import list_pieces, load_piece, load_ref

    refs = list_pieces(None, ["music21:bach"])
    assert len(refs) > 300 and refs[0].kind == "musicxml"
    ref = next(r for r in refs if r.piece_id.endswith("bwv66.6.mxl"))
    piece = load_ref(ref)
    assert load_piece(ref.piece_id).piece_id == ref.piece_id
    encoding = encoding_for(load_config("demo-pianotree_2bar").data)
    windows, _ = encoding.note_sequence_windows(piece.note_sequence, ref.piece_id)
    assert windows and max((w.tokens[..., 0] < PAD).sum(-1).max() for w in windows) >= 3


def test_tfrecord_note_sequences_are_a_source(encoding, tmp_path):
    from data_pipelines.sources import iter_pieces

    sequence = pretty_midi_to_note_sequence(chord_midi())
    path = tmp_path / "songs.tfrecord"
    with tf.io.TFRecordWriter(str(path)) as writer:
        writer.write(sequence.SerializeToString())
    (piece,) = list(iter_pieces([str(path)]))
    windows, _ = encoding.note_sequence_windows(piece.note_sequence, piece.piece_id)
    assert len(windows) == 1
