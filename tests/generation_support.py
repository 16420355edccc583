"""A tiny trained MusicVAE and small MIDI files shared by the generation tests.

The model (2 bars, 8 latent dims) is trained for a few hundred steps on synthetic C-major melodies
whose note density varies strongly (an onset every 1, 2, 4 or 8 steps), so its latent space
clearly encodes density. It is trained once per test process and saved as a run directory
(``model.keras`` + ``config.yaml``) like ``musicvae-tf train`` writes.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path

import numpy as np
import yaml

from musicvae_tf.config import load_config

C_MAJOR = np.array([60, 62, 64, 65, 67, 69, 71, 72])
TRAIN_STEPS = 300
TINY_OVERRIDES = [
    "model.encoder_units=[48]", "model.latent_dim=8", "model.decoder_units=[64]",
    "data.transpose_range=[0,0]", "training.batch_size=64",
]


def tiny_config():
    """2-bar melody config with tiny layers."""
    return load_config("cat-mel_2bar_small", TINY_OVERRIDES)


def synthetic_melodies(num: int, data_config, seed: int = 0) -> np.ndarray:
    """Tokens [num, T]: C-major notes with an onset every 1, 2, 4 or 8 steps (chosen per melody)."""
    rng = np.random.default_rng(seed)
    tokens = np.zeros((num, data_config.num_steps), np.int32)
    for row in tokens:
        every = int(rng.choice([1, 2, 4, 8]))
        onsets = np.arange(0, data_config.num_steps, every)
        row[onsets] = 2 + rng.choice(C_MAJOR, size=len(onsets)) - data_config.min_pitch
    return tokens


@functools.lru_cache(maxsize=1)
def trained_run_dir() -> Path:
    """A run directory holding the tiny model trained on :func:`synthetic_melodies`."""
    import keras
    import tensorflow as tf

    from musicvae_tf.models.music_vae.losses import vae_losses
    from musicvae_tf.models.music_vae.model import build_model

    config = tiny_config()
    keras.utils.set_random_seed(0)
    model = build_model(config)
    optimizer = keras.optimizers.Adam(3e-3)
    data = tf.one_hot(synthetic_melodies(2048, config.data), config.data.num_classes)

    @tf.function
    def train_step(batch):
        with tf.GradientTape() as tape:
            out = model(batch, training=True)
            loss = vae_losses(out["logits"], batch, out["mu"], out["sigma"], 0.05, 0.0)["loss"]
        grads = tape.gradient(loss, model.trainable_variables)
        grads, _ = tf.clip_by_global_norm(grads, 1.0)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    for step in range(TRAIN_STEPS):
        start = (step * 64) % 2048
        train_step(data[start:start + 64])
    run_dir = Path(tempfile.mkdtemp(prefix="musicvae_gen_test_"))
    atexit.register(shutil.rmtree, run_dir, True)
    model.save(run_dir / "model.keras")
    (run_dir / "config.yaml").write_text(yaml.safe_dump(config.to_dict(), sort_keys=False))
    return run_dir


def write_melody_midi(path: Path, pitches, bars: int, numerator: int = 4, program: int = 0,
                      is_drum: bool = False, duration: float = 0.45) -> Path:
    """A one-track MIDI file at 120 qpm: ``pitches`` one per beat (``duration`` s), cycled over ``bars`` bars."""
    import pretty_midi

    midi = pretty_midi.PrettyMIDI(initial_tempo=120.0)
    midi.time_signature_changes.append(pretty_midi.TimeSignature(numerator, 4, 0.0))
    instrument = pretty_midi.Instrument(program=program, is_drum=is_drum)
    for beat in range(bars * numerator):
        pitch = int(pitches[beat % len(pitches)])
        instrument.notes.append(pretty_midi.Note(80, pitch, beat * 0.5, beat * 0.5 + duration))
    midi.instruments.append(instrument)
    midi.write(str(path))
    return path


def write_synthetic_corpus(folder: Path, data_config, min_test_pieces: int = 2, min_pieces: int = 16) -> Path:
    """4-bar MIDI files of :func:`synthetic_melodies`, named so that at least ``min_test_pieces``
    fall in the test split (the split is a hash of the file name)."""
    from data_pipelines.splits import split_for
    from data_pipelines.tokens import write_midi

    folder.mkdir(parents=True, exist_ok=True)
    tested = index = 0
    while tested < min_test_pieces or index < min_pieces:
        name = f"tune_{index:03d}.mid"
        two_bar_pair = synthetic_melodies(2, data_config, seed=100 + index)
        write_midi(np.concatenate(two_bar_pair), folder / name, data_config)
        tested += split_for(name, data_config) == "test"
        index += 1
    return folder
