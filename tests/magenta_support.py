"""Shared helpers for the Magenta checkpoint tests: fixture paths, importing, outputs, writing checkpoints."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

FIXTURES = Path(__file__).parent / "fixtures" / "magenta"
# Fixture folder -> the Magenta config it was trained from (sizes shrunk through hparams).
FIXTURE_CONFIGS = {
    "mel_2bar_tiny": "cat-mel_2bar_small",
    "hierdec_mel_16bar_tiny": "hierdec-mel_16bar",
    "flat_mel_16bar_tiny": "flat-mel_16bar",
}
TF1 = "tf1_checkpoint"
JS = "magentajs"


def reference(fixture: str) -> dict[str, np.ndarray]:
    """Magenta's outputs for the fixture's 4 token sequences."""
    with np.load(FIXTURES / fixture / "reference.npz") as data:
        return dict(data)


@functools.lru_cache(maxsize=None)
def imported(fixture: str, location: str):
    """The fixture checkpoint at ``location`` (relative to its folder) imported as an ImportedModel."""
    from musicvae_tf.config import load_config
    from musicvae_tf.models.music_vae.magenta_checkpoint import open_checkpoint
    from musicvae_tf.models.music_vae.magenta_import import import_checkpoint

    with open_checkpoint(FIXTURES / fixture / location) as reader:
        return import_checkpoint(reader, load_config(FIXTURE_CONFIGS[fixture]))


def outputs(model, ref: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Our mu, sigma, teacher-forced logits (z = Magenta's mu) and argmax decoding of the reference batch."""
    import tensorflow as tf

    one_hot = tf.one_hot(ref["tokens"], model.num_classes)
    mu, sigma = model.encode(one_hot)
    logits = model.decode_logits(tf.constant(ref["mu"]), one_hot)
    greedy_logits, greedy_tokens = model.sample(ref["mu"], temperature=0.0)
    return {"mu": np.asarray(mu), "sigma": np.asarray(sigma), "logits": np.asarray(logits),
            "greedy_logits": np.asarray(greedy_logits), "greedy_tokens": np.asarray(greedy_tokens)}


def max_differences(ours: dict[str, np.ndarray], ref: dict[str, np.ndarray]) -> dict[str, float]:
    """Max |ours - Magenta| of every float output the reference has."""
    keys = [k for k in ("mu", "sigma", "logits", "greedy_logits") if k in ref]
    return {k: float(np.max(np.abs(ours[k] - ref[k]))) for k in keys}


def checkpoint_arrays(fixture: str) -> dict[str, np.ndarray]:
    """The fixture's TF1 model variables (optimizer state left out) as arrays."""
    from musicvae_tf.models.music_vae.magenta_checkpoint import Tf1Checkpoint

    reader = Tf1Checkpoint(FIXTURES / fixture / TF1 / "model.ckpt-2")
    return {name: reader.tensor(name) for name in reader.shapes}


def write_tf1_checkpoint(prefix: Path, arrays: dict[str, np.ndarray]) -> Path:
    """Write ``arrays`` under their names as a TF1 checkpoint at ``prefix``."""
    import tensorflow as tf

    prefix.parent.mkdir(parents=True, exist_ok=True)
    names = sorted(arrays)
    tf.raw_ops.SaveV2(prefix=str(prefix), tensor_names=names, shape_and_slices=[""] * len(names),
                      tensors=[tf.constant(arrays[n]) for n in names])
    return prefix


def model_weights(model) -> dict[str, np.ndarray]:
    """Every Keras weight of ``model`` by path."""
    return {w.path: np.asarray(w) for w in model.weights}


def randomize_weights(model, seed: int) -> None:
    """Random weights unlike any Magenta checkpoint's: N(0, 0.3^2), LSTM forget biases spread over
    [0.5, 2] (so the run-time forget bias of 1.0 is tested on both sides)."""
    rng = np.random.default_rng(seed)
    for weight in model.weights:
        value = rng.normal(0.0, 0.3, weight.shape).astype(np.float32)
        if weight.path.endswith(("_fw_bias", "_bw_bias")):  # LSTM biases; Keras's forget block
            units = weight.shape[0] // 4
            value[units:2 * units] = rng.uniform(0.5, 2.0, units)
        weight.assign(value)
