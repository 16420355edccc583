"""The melody encoding behind the seam: the registry, windows, MIDI, roll lanes and transposition
give exactly what the melody functions it is built on give."""

import numpy as np
import pytest

from data_pipelines.encodings import encoding_for
from data_pipelines.encodings.melody import MelodyEncoding
from data_pipelines.errors import UsageError
from data_pipelines.extraction import extract_melody_spans
from data_pipelines.midi_source import pretty_midi_to_note_sequence, read_midi_file
from data_pipelines.tokens import note_sequence_to_tokens, token_notes, write_midi
from data_pipelines.windows import melody_windows
from midi_factory import make_midi, scale_notes
from musicvae_tf.config import DataConfig, load_config

CONFIG = DataConfig(num_bars=2)


def test_registry_gives_the_melody_encoding_with_its_sizes():
    encoding = encoding_for(CONFIG)
    assert isinstance(encoding, MelodyEncoding) and encoding.name == "melody"
    assert encoding.output_splits == (90,) and encoding.control_depth == 0
    assert encoding.encoder_input_depth == 90 and encoding.window_shape == (32,)


def test_unknown_encoding_is_a_usage_error_with_a_hint():
    with pytest.raises(UsageError, match="did you mean melody"):
        load_config("cat-mel_2bar_small", ["data.encoding=melodi"])
    with pytest.raises(UsageError, match="unknown data.encoding"):
        encoding_for(DataConfig(encoding="nope"))


def test_windows_midi_and_lanes_match_the_melody_functions(tmp_path):
    encoding = encoding_for(CONFIG)
    sequence = pretty_midi_to_note_sequence(make_midi(scale_notes(bars=4)))
    windows, skips = encoding.note_sequence_windows(sequence, "scale")
    expected, window_skips = melody_windows(extract_melody_spans(sequence, CONFIG)[0], CONFIG,
                                            "scale")
    assert [w.tokens.tolist() for w in windows] == [w.tokens.tolist() for w in expected]
    assert skips["duplicates"] == window_skips["duplicates"]
    tokens = windows[0].tokens
    path = encoding.write_midi(tokens, tmp_path / "a.mid")
    assert open(path, "rb").read() == open(write_midi(tokens, tmp_path / "b.mid", CONFIG),
                                           "rb").read()
    np.testing.assert_array_equal(encoding.from_note_sequence(read_midi_file(path)), tokens)
    np.testing.assert_array_equal(encoding.from_note_sequence(encoding.to_note_sequence(tokens)),
                                  note_sequence_to_tokens(encoding.to_note_sequence(tokens), CONFIG))
    [lane] = encoding.roll_lanes(tokens)
    assert lane.notes == token_notes(tokens, CONFIG) and lane.row_names is None


def test_transpose_and_encoder_inputs_are_tf_ops():
    import tensorflow as tf

    encoding = encoding_for(CONFIG)
    tokens = tf.constant([[2 + 60 - 21, 0, 1] + [0] * 29], tf.int32)
    moved = encoding.transpose(tokens, tf.constant([0.99]), 2, 2)
    assert int(moved[0, 0]) == 2 + 62 - 21 and int(moved[0, 2]) == 1
    np.testing.assert_array_equal(encoding.encoder_inputs(tokens).numpy(),
                                  tf.one_hot(tokens, 90).numpy())
