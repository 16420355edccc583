"""The VQ-VAE and its code prior: overfitting a tiny corpus, seeded prior sampling that decodes
to MIDI, inpainting by codes, and ``.keras`` round trips."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from musicvae_tf.models.vq_vae.model import build_model
from musicvae_tf.models.vq_vae.prior import build_prior, training_masks
from musicvae_tf.models.vq_vae.task import PriorTask, VQTask
from musicvae_tf.training.strategy import make_strategy
from musicvae_tf.training.trainer import setup_training
from vq_support import bar_bank_windows, tiny_vq_config


def _train(task_builder, batches, steps):
    setup = setup_training(task_builder, make_strategy("cpu"), "float32", seed=0)
    for step in range(steps):
        metrics = setup.train_step(batches[step % len(batches)])
    return setup.task, {k: float(v) for k, v in metrics.items()}


@pytest.fixture(scope="module")
def trained():
    """A VQ-VAE overfit on windows built from 4 bars, and a prior trained on its codes."""
    config = tiny_vq_config("training.learning_rate=0.02", "prior.num_steps=150")
    windows = bar_bank_windows(config, 32)
    one_hot = tf.one_hot(windows, config.data.num_classes)
    batches = [(one_hot[i:i + 8], tf.constant(windows[i:i + 8])) for i in range(0, 32, 8)]
    task, metrics = _train(lambda: VQTask(config), batches, 200)
    codes = np.asarray(task.model.codes(one_hot))
    prior_task, prior_metrics = _train(lambda: PriorTask(config),
                                       [tf.constant(codes[i:i + 8]) for i in range(0, 32, 8)], 150)
    return config, windows, task.model, prior_task.model, metrics, prior_metrics


def test_overfits_a_tiny_corpus_through_its_codes(trained):
    config, windows, model, _, metrics, _ = trained
    assert metrics["accuracy"] > 0.95, metrics
    assert metrics["code_perplexity"] > 1.5 and "codes_restarted" in metrics
    one_hot = tf.one_hot(windows, config.data.num_classes)
    z_e, _ = model.encode(one_hot)
    tokens = np.asarray(model.sample_tokens(z_e, temperature=0.0, seed=0))
    assert (tokens == windows).mean() > 0.95


def test_prior_learns_the_codes(trained):
    *_, prior_metrics = trained
    assert prior_metrics["code_accuracy"] > 0.5, prior_metrics


def test_prior_sampling_is_seeded_and_decodes_to_valid_midi(trained, tmp_path):
    from musicvae_tf.models.vq_vae.family import CodePriorSampler
    from musicvae_tf.trained_model import TrainedModel

    config, _, model, prior, _, _ = trained
    sampler = CodePriorSampler(model, None)
    sampler._prior = prior
    trained_model = TrainedModel(model, config, prior=sampler)
    first = trained_model.sample_tokens(3, temperature=1.0, seed=5)
    again = trained_model.sample_tokens(3, temperature=1.0, seed=5)
    other = trained_model.sample_tokens(3, temperature=1.0, seed=6)
    assert first.shape == (3, config.data.num_steps)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    codes = sampler.sample_codes(4, seed=1, temperature=1.0)
    assert codes.shape == (4, config.data.num_bars, 2)
    assert codes.min() >= 0 and codes.max() < 16
    import pretty_midi

    from data_pipelines.tokens import write_midi

    path = write_midi(first[0], tmp_path / "sample.mid", config.data)
    notes = pretty_midi.PrettyMIDI(str(path)).instruments[0].notes
    assert len(trained_model.sample(1, seed=5)[0].notes) == len(notes)
    assert notes and all(60 <= n.pitch <= 71 and n.end > n.start for n in notes)


def test_masked_prior_fills_only_the_gap(trained):
    from musicvae_tf.models.inpainting.gap import PROTOCOL_A
    from musicvae_tf.models.inpainting.metrics import GapMetrics
    from musicvae_tf.models.vq_vae.inpaint import VQInpainter

    config, windows, model, prior, _, _ = trained
    inpainter = VQInpainter(model, config, prior)
    bars = windows[0].reshape(config.data.num_bars, -1)
    gap = inpainter.gap_tokens(bars, PROTOCOL_A, num_outputs=2, temperature=0.5, seed=3)
    assert gap.shape == (2, 4, config.data.steps_per_bar)
    metric = GapMetrics()
    inpainter.score(windows[:8], PROTOCOL_A, metric)
    result = metric.result()
    assert result["gap_tokens"] == 8 * 4 * config.data.steps_per_bar
    assert 0.0 <= result["accuracy"] <= 1.0 and np.isfinite(result["nll"])


def test_training_masks_cover_gaps_and_suffixes():
    config = tiny_vq_config("prior.gap_probability=0.5")
    masks = training_masks(512, 16, 2, config.section("prior"), tf.constant([0, 1])).numpy()
    assert masks.any(axis=1).all()
    masked_bars = masks.reshape(512, 16, 2).any(-1)
    suffix = masked_bars[:, -1]
    gaps = masked_bars[~suffix]
    assert len(gaps) > 100 and not gaps[:, 0].any()
    lengths = gaps.sum(1)
    assert lengths.min() >= 1 and lengths.max() <= 6


def test_keras_round_trip(trained, tmp_path):
    from musicvae_tf.models.loading import load_keras_file

    config, windows, model, prior, _, _ = trained
    one_hot = tf.one_hot(windows[:4], config.data.num_classes)
    model.save(tmp_path / "vq.keras")
    prior.save(tmp_path / "prior.keras")
    loaded, loaded_prior = load_keras_file(tmp_path / "vq.keras"), load_keras_file(tmp_path / "prior.keras")
    np.testing.assert_array_equal(loaded.quantizer.codebook.numpy(), model.quantizer.codebook.numpy())
    np.testing.assert_allclose(loaded(one_hot)["logits"], model(one_hot)["logits"], atol=1e-5)
    codes = np.asarray(model.codes(one_hot)).reshape(4, -1)
    np.testing.assert_allclose(loaded_prior(codes), prior(codes), atol=1e-5)
    np.testing.assert_array_equal(loaded_prior.sample(2, 1.0, 7), prior.sample(2, 1.0, 7))


def test_build_matches_config_and_a_mismatch_is_reported():
    from musicvae_tf.models.vq_vae.model import config_mismatches

    config = tiny_vq_config()
    model = build_model(config)
    assert model.code_dim == 4 and config_mismatches(model, config) == []
    assert config_mismatches(model, tiny_vq_config("vq.codebook_size=32")) == ["codebook_size 16/32"]
    assert build_prior(config).length == 32
