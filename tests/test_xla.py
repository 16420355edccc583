"""``training.jit_compile``: the forward and backward pass through XLA give the same step as without
it, and the scheduled-sampling path (a step loop inside the gradient) compiles too."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from musicvae_tf.models.music_vae.task import VAETask
from musicvae_tf.training import train
from training_support import synthetic_tokens, tiny_config, token_dataset_fn


def _first_losses(tmp_path, *settings, steps=3):
    config = tiny_config(*settings, hierarchical=True)
    tokens = synthetic_tokens(config, 32)
    train(lambda: VAETask(config), token_dataset_fn(tokens, config), tmp_path, config, steps=steps,
          strategy_name="cpu", progress=False, log=lambda _: None)
    from musicvae_tf.training.metrics_log import read_metrics

    rows = read_metrics(tmp_path / "metrics.jsonl")
    return [row["loss"] for row in rows]


def test_an_xla_step_matches_the_plain_one(tmp_path):
    plain = _first_losses(tmp_path / "plain")
    compiled = _first_losses(tmp_path / "xla", "training.jit_compile=true")
    # XLA's CPU kernels round differently (about 0.1 % on these losses), nothing more.
    np.testing.assert_allclose(compiled, plain, rtol=5e-3)


def test_scheduled_sampling_compiles_and_trains(tmp_path):
    losses = _first_losses(tmp_path, "training.jit_compile=true",
                           "training.sampling_schedule=inverse_sigmoid", "training.sampling_rate=2")
    assert len(losses) == 3 and all(np.isfinite(losses))


def test_the_step_loop_at_probability_zero_is_teacher_forcing():
    from musicvae_tf.models.music_vae.model import build_model

    config = tiny_config(hierarchical=True)
    model = build_model(config)
    tokens = synthetic_tokens(config, 4)
    one_hot = tf.one_hot(tokens, config.data.num_classes)
    z = tf.random.stateless_normal([4, config.model.latent_dim], [1, 2])
    forced = model.decode_logits(z, one_hot)
    stepped = model.decode_logits(z, one_hot, sampling_probability=tf.constant(0.0),
                                  stepwise=True, seed=3)
    np.testing.assert_allclose(stepped, forced, atol=1e-5)
    assert not np.allclose(model.decode_logits(z, one_hot, sampling_probability=tf.constant(1.0),
                                               stepwise=True, seed=3), forced, atol=1e-3)


@pytest.mark.parametrize("value", ["maybe", 1])
def test_jit_compile_must_be_true_or_false(value):
    from data_pipelines.errors import UsageError

    with pytest.raises(UsageError, match="training.jit_compile must be true or false"):
        tiny_config(f"training.jit_compile={value}")
