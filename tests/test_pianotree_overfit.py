"""A tiny PianoTree VAE learns two polyphonic windows: teacher-forced and greedy fully sampled
reconstructions match them, TrainedModel writes them as polyphonic MIDI and interpolates between
them (slow: about 40 s of training on one core)."""

from __future__ import annotations

import keras
import numpy as np
import pretty_midi
import pytest
import tensorflow as tf
from pianotree_support import chord_midi, tiny_config

from data_pipelines.encodings import encoding_for
from data_pipelines.midi_source import pretty_midi_to_note_sequence
from musicvae_tf.models.pianotree.evaluate import F1Counts, window_notes
from musicvae_tf.models.pianotree.task import PianoTreeTask
from musicvae_tf.trained_model import TrainedModel

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trained():
    keras.utils.set_random_seed(0)
    config = tiny_config("training.max_beta=0.0", "pianotree.decoder_note_units=64",
                         "pianotree.decoder_time_units=64")
    encoding = encoding_for(config.data)
    trees = np.stack([encoding.note_sequence_windows(pretty_midi_to_note_sequence(
        chord_midi(root)))[0][0].tokens for root in (55, 62)]).astype(np.int32)
    tokens = tf.constant(trees)
    batch = (tf.cast(encoding.encoder_inputs(tokens), tf.float32), tokens)
    task = PianoTreeTask(config)
    optimizer = keras.optimizers.Adam(0.01)

    @tf.function
    def step(index):
        with tf.GradientTape() as tape:
            loss = task.losses(batch, index, training=False)["loss"]
        grads = tape.gradient(loss, task.model.trainable_variables)
        optimizer.apply_gradients(zip(grads, task.model.trainable_variables))
        return loss

    for index in range(280):
        loss = step(tf.constant(index, tf.int64))
    return TrainedModel(task.model, config), batch, float(loss)


def _note_f1(predicted, reference):
    counts = F1Counts()
    for mine, theirs in zip(predicted, reference):
        counts.add(window_notes(mine, 32)[1], window_notes(theirs, 32)[1])
    return counts.scores()["f1"]


def test_overfits_two_windows_teacher_forced_and_sampled(trained):
    model, (inputs, tokens), loss = trained
    assert loss < 2.0
    forced = model.model.teacher_forced_tokens(inputs, tokens).numpy()
    assert _note_f1(forced, tokens.numpy()) > 0.95
    _, mu, _ = model.encode_tokens(tokens.numpy())
    sampled = model.decode_tokens(mu, temperature=0.0)
    assert _note_f1(sampled, tokens.numpy()) > 0.9


def test_sampling_writes_polyphonic_midi(trained, tmp_path):
    model, (_, tokens), _ = trained
    _, mu, _ = model.encode_tokens(tokens.numpy())
    path = model.encoding.write_midi(model.decode_tokens(mu[:1], temperature=0.0)[0],
                                     tmp_path / "chords.mid")
    notes = sorted(pretty_midi.PrettyMIDI(str(path)).instruments[0].notes, key=lambda n: n.start)
    starts = [round(n.start, 3) for n in notes]
    assert len(notes) > 10 and max(starts.count(s) for s in starts) >= 3


def test_interpolation_endpoints_decode_to_the_two_windows(trained):
    model, (_, tokens), _ = trained
    a, b = (model.encoding.to_note_sequence(tree) for tree in tokens.numpy())
    path = model.interpolate_tokens(a, b, num_steps=3, temperature=0.0).tokens
    assert path.shape == (3, 32, 14, 2)
    assert _note_f1(path[[0, -1]], tokens.numpy()) > 0.9
