"""Collapse diagnostics: a decoder that ignores z has a z-shuffle gap of 0, one that uses z does
not; training logs them per summary and warns about a collapsed run."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from musicvae_tf.models.music_vae.latent_diagnostics import collapse_warning, latent_diagnostics
from musicvae_tf.training import train
from musicvae_tf.training.metrics_log import read_metrics
from musicvae_tf.models.music_vae.task import VAETask
from training_support import synthetic_tokens, tiny_config, token_dataset_fn

CLASSES, STEPS = 6, 4


class StandIn:
    """A fake VAE: the posterior mean is the one-hot of the first token; the decoder predicts
    every step from z (``uses_z``) or from nothing at all."""

    def __init__(self, uses_z: bool):
        self.uses_z = uses_z
        self.output_splits = [CLASSES]

    def encode(self, one_hot, training=False):
        mu = one_hot[:, 0, :] * 3.0
        return mu, tf.ones_like(mu) * 0.5

    def decode_logits(self, z, one_hot, training=False, controls=None):
        if not self.uses_z:
            z = tf.zeros_like(z)
        return tf.repeat(z[:, tf.newaxis, :], STEPS, axis=1)


def batch_of(first_tokens):
    tokens = np.repeat(np.asarray(first_tokens, np.int32)[:, None], STEPS, axis=1)
    return tf.one_hot(tokens, CLASSES), tokens


def test_a_decoder_that_ignores_z_has_no_gap_and_one_that_uses_it_does():
    one_hot, tokens = batch_of([0, 1, 2, 3, 4, 5, 1, 2])
    ignoring = latent_diagnostics(StandIn(uses_z=False), one_hot, tokens)
    using = latent_diagnostics(StandIn(uses_z=True), one_hot, tokens)
    assert ignoring["z_shuffle_gap"] == 0.0
    assert using["accuracy_own_z"] == 1.0 and using["z_shuffle_gap"] > 0.8
    assert using["active_units"] == CLASSES  # every one-hot dimension varies across the batch
    assert len(using["kl_bits_per_dim"]) == CLASSES
    # each dimension's KL: 0.5 (s^2 + m^2 - 1) - ln s with s = 0.5 and m = 3 on 1-2 of 8 examples
    expected = (0.5 * (0.25 - 1) - np.log(0.5)) + 0.5 * 9 * np.array([1, 2, 2, 1, 1, 1]) / 8
    np.testing.assert_allclose(using["kl_bits_per_dim"], expected / np.log(2), atol=1e-3)
    assert collapse_warning(ignoring) is not None and collapse_warning(using) is None


def test_training_summaries_log_the_diagnostics_and_warn_on_collapse(tmp_path, capsys):
    config = tiny_config("training.collapse_warmup_steps=3")
    tokens = synthetic_tokens(config)
    held_out = (tf.one_hot(tokens[:8], config.data.num_classes), tokens[:8])
    messages = []
    train(lambda: VAETask(config, diagnostic_batch=held_out), token_dataset_fn(tokens, config),
          tmp_path, config, steps=4, strategy_name="cpu", progress=False, log=messages.append)
    rows = read_metrics(tmp_path / "metrics.jsonl")
    assert all({"active_units", "z_shuffle_gap", "kl_bits_per_dim"} <= set(r) for r in rows)
    assert len(rows[-1]["kl_bits_per_dim"]) == config.model.latent_dim
    # four steps are far too few to use z: the warning appears once, after the warm-up
    stderr = capsys.readouterr().err
    assert stderr.count("posterior collapse") == 1
    assert "warning at step 3" in stderr


def test_mu_batch_norm_spreads_every_posterior_mean_across_a_batch():
    # BN-VAE: a batch-normalised mean of fixed scale varies across inputs from the first step,
    # where the plain Dense mean (N(0, 0.001^2) kernels) barely moves.
    from model_support import random_tokens, tiny_model

    config, plain = tiny_model(False)
    _, normalised = tiny_model(False, "model.mu_batch_norm=0.5")
    one_hot = tf.one_hot(random_tokens(config, batch=64), config.data.num_classes)
    spread = normalised.encode(one_hot, training=True)[0].numpy().std(axis=0)
    assert (spread > 0.3).all() and (spread <= 0.5 + 1e-6).all(), spread
    assert plain.encode(one_hot, training=True)[0].numpy().std(axis=0).max() < 0.01
    assert normalised.get_config()["mu_batch_norm"] == 0.5
