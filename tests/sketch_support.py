"""Tiny SketchVAE / SketchNet models and corpora for the sketch tests (no data on disk)."""

from __future__ import annotations

import numpy as np

from musicvae_tf.config import load_config

TINY_VAE = ["sketch_vae.units=64", "sketch_vae.pitch_latent=8", "sketch_vae.rhythm_latent=8",
            "sketch_vae.encoder_layers=1", "sketch_vae.dropout=0.0", "sketch_vae.beta=0.01", "sketch_vae.free_bits=0.0",
            "training.batch_size=32"]
TINY_NET = ["sketchnet.context_units=16", "sketchnet.generation_units=16", "sketchnet.d_model=16",
            "sketchnet.heads=2", "sketchnet.layers=1", "sketchnet.ffn=32",
            "training.batch_size=4", "training.num_steps=2", "sketchnet.connector_steps=2"]


def vae_config(*extra: str):
    """The demo sketch_vae config at test sizes."""
    return load_config("sketch-vae-demo", TINY_VAE + list(extra))


def net_config(*extra: str):
    """The demo sketchnet config at test sizes."""
    return load_config("sketchnet-demo", TINY_NET + list(extra))


def corpus_bars(min_pitch: int = 21) -> np.ndarray:
    """``[6, 16]`` token bars with different rhythms (quarters, eighths, a rest, a held note)."""
    rhythms = ["x---x---x---x---", "x-x-x-x-x---x---", "x---....x-x-x---",
               "x-------x---x---", "x---x-x-x---....", "x-x-x---x-------"]
    pitch_sets = [(60, 62, 64, 65), (72, 71, 69, 67, 65, 64), (55, 60, 62, 64),
                  (64, 76, 74), (67, 65, 64, 62), (60, 64, 67, 72)]
    bars = np.zeros((len(rhythms), 16), np.int32)
    for row, (rhythm, pitches) in enumerate(zip(rhythms, pitch_sets)):
        onset = 0
        for step, char in enumerate(rhythm):
            if char == "x":
                bars[row, step] = 2 + pitches[onset] - min_pitch
                onset += 1
            elif char == "." and rhythm[step - 1] != ".":
                bars[row, step] = 1
    return bars


def corpus_windows(count: int = 8, seed: int = 0) -> np.ndarray:
    """``[count, 256]`` 16-bar windows cycling through the corpus bars from a random start."""
    bars = corpus_bars()
    starts = np.random.default_rng(seed).integers(len(bars), size=count)
    return np.stack([bars[(start + np.arange(16)) % len(bars)].reshape(-1) for start in starts])


def overfit_sketch_vae(steps: int = 300, seed: int = 0):
    """A tiny SketchVAE trained (its own task, Adam) until it reconstructs ``corpus_bars``."""
    import keras
    import tensorflow as tf

    from musicvae_tf.models.sketch_vae.task import SketchVAETask

    keras.utils.set_random_seed(seed)
    task = SketchVAETask(vae_config())
    optimizer = keras.optimizers.Adam(0.003)
    bars = np.repeat(corpus_bars(), 4, axis=0)
    batch = (None, tf.constant(bars))

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = task.losses(batch, 0, True)["loss"]
        grads = tape.gradient(loss, task.trainable_variables)
        optimizer.apply(grads, task.trainable_variables)
        return loss

    for _ in range(steps):
        step()
    return task.model
