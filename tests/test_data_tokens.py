"""Tokens <-> NoteSequence / PrettyMIDI / MIDI file round trips."""

import numpy as np
import pytest

from data_pipelines.midi_source import read_midi_file
from data_pipelines.tokens import (NOTE_OFF, note_sequence_to_tokens, token_notes,
                                   tokens_to_note_sequence, tokens_to_pretty_midi, write_midi)
from data_pipelines.windows import windows_from_file
from musicvae_tf.config import DataConfig

CONFIG = DataConfig(num_bars=2)


def random_window(rng, num_steps, num_classes):
    """A random in-range monophonic window (note-offs only while a note sounds)."""
    tokens = np.zeros(num_steps, np.int32)
    sounding = False
    for step in range(num_steps):
        roll = rng.random()
        if roll < 0.3:
            tokens[step] = rng.integers(2, num_classes)
            sounding = True
        elif roll < 0.4 and sounding:
            tokens[step] = NOTE_OFF
            sounding = False
    return tokens


def test_random_windows_round_trip_through_note_sequence_and_midi_file(tmp_path):
    rng = np.random.default_rng(0)
    for index in range(20):
        tokens = random_window(rng, CONFIG.num_steps, CONFIG.num_classes)
        sequence = tokens_to_note_sequence(tokens, CONFIG)
        assert sequence.tempos[0].qpm == 120.0
        assert all(n.velocity == 80 for n in sequence.notes)
        np.testing.assert_array_equal(note_sequence_to_tokens(sequence, CONFIG), tokens)
        path = write_midi(tokens, tmp_path / f"w{index}.mid", CONFIG)
        np.testing.assert_array_equal(note_sequence_to_tokens(read_midi_file(path), CONFIG), tokens)
    assert not list(tmp_path.glob(".*.tmp"))


def test_extremes_of_the_pitch_range_round_trip():
    tokens = np.zeros(CONFIG.num_steps, np.int32)
    tokens[0], tokens[5], tokens[9] = 2, CONFIG.num_classes - 1, NOTE_OFF
    midi = tokens_to_pretty_midi(tokens, CONFIG)
    assert [n.pitch for n in midi.instruments[0].notes] == [21, 108]
    np.testing.assert_array_equal(note_sequence_to_tokens(tokens_to_note_sequence(tokens, CONFIG),
                                                          CONFIG), tokens)


def test_window_extraction_recovers_a_decoded_window(tmp_path):
    tokens = np.zeros(CONFIG.num_steps, np.int32)
    tokens[[0, 4, 8, 12, 16, 20, 24]] = [40, 42, 44, 45, 47, 49, 51]
    tokens[28] = NOTE_OFF
    path = write_midi(tokens, tmp_path / "w.mid", CONFIG)
    windows = windows_from_file(path, CONFIG)
    np.testing.assert_array_equal(windows[0].tokens, tokens)


def test_note_durations_follow_the_tokens():
    tokens = np.zeros(16, np.int32)
    tokens[0], tokens[3], tokens[6] = 41, 43, NOTE_OFF
    assert token_notes(tokens, CONFIG) == [(60, 0, 3), (62, 3, 6)]
    with pytest.raises(ValueError):
        token_notes(np.array([95]), CONFIG)
