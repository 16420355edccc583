"""The PianoTree VAE and its piano-roll baseline: shapes, the loss, `.keras` round trips,
sampling to polyphonic MIDI, and the F1 evaluation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import tensorflow as tf
from pianotree_support import chord_midi, tiny_config, tiny_roll_config

from data_pipelines.encodings import encoding_for
from data_pipelines.encodings.pianotree import PAD, notes_to_tree, playable_notes
from data_pipelines.midi_source import pretty_midi_to_note_sequence
from musicvae_tf.models.pianotree.evaluate import F1Counts, window_notes
from musicvae_tf.models.pianotree.model import build_model, crop_slots, targets_of
from musicvae_tf.models.pianotree.pianoroll import roll_states, roll_to_tree
from musicvae_tf.models.pianotree.task import PianoTreeTask, reconstruction_terms


def _batch(config, roots=(60, 62)):
    encoding = encoding_for(config.data)
    trees = np.stack([encoding.note_sequence_windows(pretty_midi_to_note_sequence(
        chord_midi(root)))[0][0].tokens for root in roots]).astype(np.int32)
    tokens = tf.constant(trees)
    return tf.cast(encoding.encoder_inputs(tokens), tf.float32), tokens


def test_targets_end_each_step_with_eos_and_ignore_the_rest():
    tree = notes_to_tree([0, 0], [60, 64], [2, 1], 32, 3)
    classes, bits = targets_of(tf.constant(tree[None]))
    assert classes.shape == (1, 32, 4)
    assert classes[0, 0].numpy().tolist() == [60, 64, 128, -1]
    assert classes[0, 1].numpy().tolist() == [128, -1, -1, -1]
    assert bits[0, 0, 0].numpy().tolist() == [0, 0, 0, 0, 1] and not bits[0, 0, 2:].numpy().any()


def test_shapes_and_loss_terms():
    config = tiny_config()
    inputs, tokens = _batch(config)
    model = build_model(config)
    mu, sigma = model.encode(inputs)
    assert mu.shape == sigma.shape == (2, 8) and np.all(sigma.numpy() > 0)
    classes, bits = targets_of(tokens)
    pitch_logits, bit_logits = model.decode_logits(mu, classes, bits)
    assert pitch_logits.shape == (2, 32, 15, 129) and bit_logits.shape == (2, 32, 15, 5, 2)
    terms = PianoTreeTask(config, model).losses(crop_slots(inputs, tokens), tf.constant(0), True)
    assert all(np.isfinite(float(v)) for v in terms.values())
    assert float(terms["loss"]) == pytest.approx(float(terms["reconstruction"]), rel=1e-6)


def test_reconstruction_is_summed_cross_entropy_with_bit_weights():
    classes, bits = targets_of(tf.constant(notes_to_tree([0], [60], [32], 2, 2)[None]))
    uniform = reconstruction_terms(tf.zeros([1, 2, 3, 129]), tf.zeros([1, 2, 3, 5, 2]),
                                   classes, bits, (1.0, 0.6, 0.4, 0.3, 0.3))
    # slots with a target: the note and EOS at step 0, EOS at step 1; one note's 5 bits.
    assert float(uniform[1][0]) == pytest.approx(3 * math.log(129), rel=1e-5)
    assert float(uniform[2][0]) == pytest.approx(2.6 * math.log(2), rel=1e-5)
    perfect = reconstruction_terms(40.0 * tf.one_hot(tf.maximum(classes, 0), 129),
                                   40.0 * tf.one_hot(tf.cast(bits, tf.int32), 2), classes, bits,
                                   (1.0, 0.6, 0.4, 0.3, 0.3))
    assert float(perfect[0][0]) < 1e-6 and float(perfect[3]["pitch_accuracy"]) == 1.0


def test_keras_round_trip_keeps_encoding_and_sampling(tmp_path):
    import keras

    for config in (tiny_config(), tiny_roll_config()):
        inputs, _ = _batch(config)
        model = build_model(config)
        path = tmp_path / f"{config.section('pianotree').architecture}.keras"
        model.save(path)
        loaded = keras.saving.load_model(path)
        np.testing.assert_allclose(loaded.encode(inputs)[0], model.encode(inputs)[0], atol=1e-6)
        z = tf.random.stateless_normal([2, 8], [1, 2])
        np.testing.assert_array_equal(loaded.sample_tokens(z, 1.0, 3), model.sample_tokens(z, 1.0, 3))


def test_sampled_trees_are_valid_and_ascending():
    config = tiny_config()
    trees = build_model(config).sample_tokens(tf.random.stateless_normal([3, 8], [0, 1]),
                                              temperature=1.5, seed=4).numpy()
    assert trees.shape == (3, 32, 14, 2)
    pitch = trees[..., 0]
    assert ((pitch >= 0) & (pitch <= PAD)).all() and ((trees[..., 1] >= 0) & (trees[..., 1] < 32)).all()
    for step in pitch.reshape(-1, 14):
        notes = step[step < PAD]
        assert (np.diff(notes) > 0).all() and (step[len(notes):] == PAD).all()


def test_trained_model_samples_polyphonic_midi(tmp_path):
    import pretty_midi

    from musicvae_tf.trained_model import TrainedModel

    model = TrainedModel(build_model(tiny_config()), tiny_config())
    (tree,) = model.sample_tokens(1, temperature=1.0, seed=5)
    path = model.encoding.write_midi(tree, tmp_path / "sample.mid")
    notes = pretty_midi.PrettyMIDI(str(path)).instruments[0].notes
    step = 60.0 / 120.0 / 4
    assert sorted((n.pitch, round(n.start / step), round(n.end / step)) for n in notes) == \
        playable_notes(tree)
    starts = [round(n.start / step) for n in notes]
    assert max(starts.count(s) for s in starts) >= 2  # simultaneous notes


def test_roll_states_and_back_keep_notes_cut_at_the_window_end():
    tree = notes_to_tree([0, 0, 30], [60, 64, 70], [3, 1, 8], 32, 14)
    states = roll_states(encoding_for(tiny_config().data).encoder_inputs(tf.constant(tree[None])))
    assert states[0, :4, 60].numpy().tolist() == [2, 1, 1, 0]
    back = roll_to_tree(states, 14).numpy()[0]
    assert window_notes(back, 32) == window_notes(tree, 32)
    assert back[30, 0].tolist() == [70, 1]


def test_f1_counts():
    counts = F1Counts()
    counts.add({(0, 60), (0, 64)}, {(0, 60), (1, 62)})
    counts.add(set(), {(2, 50)})
    assert counts.scores() == pytest.approx({"precision": 0.5, "recall": 1 / 3, "f1": 0.4})


def test_a_model_that_does_not_fit_its_config_is_refused():
    from data_pipelines.errors import MusicVAEError
    from musicvae_tf.models.pianotree.family import check_model

    model = build_model(tiny_config())
    check_model(model, tiny_config(), "model.keras")
    with pytest.raises(MusicVAEError, match="duration_units 8/4"):
        check_model(model, tiny_config("pianotree.duration_units=4"), "model.keras")
