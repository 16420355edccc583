"""Tiny PianoTree configs and polyphonic MIDI for the tests/test_*pianotree*.py files."""

from __future__ import annotations

from midi_factory import make_midi

from musicvae_tf.config import load_config

TINY_TREE = [
    "model.latent_dim=8", "pianotree.note_embedding=8", "pianotree.encoder_note_units=8",
    "pianotree.encoder_time_units=16", "pianotree.z_input=8", "pianotree.summary_units=8",
    "pianotree.decoder_time_units=32", "pianotree.decoder_note_units=32",
    "pianotree.duration_units=8", "training.batch_size=4", "training.free_bits=0",
]


def tiny_config(*extra: str):
    """A pianotree config small enough to train a step in well under a second."""
    return load_config("demo-pianotree_2bar", TINY_TREE + list(extra))


def tiny_roll_config(*extra: str):
    """The piano-roll baseline at tiny sizes."""
    return load_config("demo-pianotree_2bar", ["pianotree.architecture=roll", "model.latent_dim=8",
                                               "pianotree.encoder_time_units=16",
                                               "pianotree.decoder_time_units=32",
                                               "pianotree.z_input=8", *extra])


def chord_notes(root: int = 60, bars: int = 2):
    """In-grid four-voice polyphony: ``[(pitch, start_beat, end_beat)]`` with half-note chords,
    a held bass, a sixteenth run and notes of 1..8 steps."""
    notes = []
    for bar in range(bars):
        beat = 4.0 * bar
        notes.append((root - 12, beat, beat + 4.0))  # a whole bar (16 steps)
        for half in (0.0, 2.0):
            for offset in (0, 4, 7):
                notes.append((root + offset + (2 if half else 0), beat + half, beat + half + 2.0))
        for k in range(4):  # sixteenths on top
            notes.append((root + 19 + k, beat + k * 0.25, beat + (k + 1) * 0.25))
        notes.append((root + 24, beat + 1.0, beat + 1.75))  # 3 steps, overlapping a chord
    return notes


def chord_midi(root: int = 60, bars: int = 2, **kwargs):
    """A PrettyMIDI of :func:`chord_notes`."""
    return make_midi(chord_notes(root, bars), **kwargs)
