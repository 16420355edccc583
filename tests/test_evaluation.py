"""Held-out evaluation: field ranges and consistency, an overfit model beats chance, per-bar
accuracy for hierarchical models, and the ``evaluate`` command's table and JSON."""

from __future__ import annotations

import json
import math

import pytest
import tensorflow as tf

from musicvae_tf.cli import main
from musicvae_tf.models.music_vae.evaluation import evaluate_interpolation, evaluate_model
from musicvae_tf.training import train
from musicvae_tf.models.music_vae.task import VAETask
from training_support import synthetic_tokens, tiny_config, token_dataset_fn, write_prepared_data


def _train(run_dir, config, tokens, steps):
    train(lambda: VAETask(config), token_dataset_fn(tokens, config), run_dir, config, steps=steps,
          strategy_name="cpu", progress=False, log=lambda _: None)


def _batches(tokens, config, batch_size=8):
    data = tf.data.Dataset.from_tensor_slices(tokens).batch(batch_size)
    return data.map(lambda t: (tf.one_hot(t, config.data.num_classes), t))


@pytest.fixture(scope="module")
def overfit_run(tmp_path_factory):
    """A flat tiny model trained until it reconstructs its 4 training melodies well."""
    config = tiny_config("training.learning_rate=0.02", "training.summary_every=50")
    tokens = synthetic_tokens(config, count=32, patterns=4)
    run_dir = tmp_path_factory.mktemp("overfit")
    _train(run_dir, config, tokens, 150)
    return run_dir, config, tokens


def test_overfit_model_is_far_above_chance_and_fields_are_consistent(overfit_run):
    run_dir, config, tokens = overfit_run
    from musicvae_tf.models.loading import load_run_model

    model, _, source = load_run_model(run_dir)
    assert source.endswith("model.keras")
    result = evaluate_model(model, _batches(tokens, config), num_bars=config.data.num_bars)
    assert result["num_sequences"] == 32
    chance = result["majority_token_accuracy"]
    assert 0 < chance < 0.3
    assert result["teacher_forced_accuracy"] > 0.7 > chance + 0.3
    for key in ("sampled_accuracy", "sampled_accuracy_greedy"):
        assert chance < result[key] <= 1.0, key
    assert result["reconstruction_nll"] > 0 and result["reconstruction_nll_at_mean"] > 0
    assert result["kl_bits"] == pytest.approx(result["kl_nats"] / math.log(2))
    assert result["elbo"] == pytest.approx(-(result["reconstruction_nll"] + result["kl_nats"]))
    assert 1 <= result["active_units"] <= result["latent_dim"] == config.model.latent_dim
    assert result["z"]["accuracy"] == "posterior mean (mu)"
    assert result["sampling_temperature"] == 1.0
    per_bar = result["per_bar_accuracy"]
    assert len(per_bar["teacher_forced"]) == len(per_bar["sampled"]) == config.data.num_bars
    assert sum(per_bar["teacher_forced"]) / 2 == pytest.approx(result["teacher_forced_accuracy"])
    # Same seed, same numbers.
    again = evaluate_model(model, _batches(tokens, config, batch_size=8),
                           num_bars=config.data.num_bars)
    assert again == result


def test_interpolation_starts_and_ends_on_its_inputs_when_the_model_reconstructs_them(
        overfit_run):
    run_dir, config, tokens = overfit_run
    from musicvae_tf.models.loading import load_run_model
    from musicvae_tf.models.music_vae.model import build_model

    model = load_run_model(run_dir)[0]
    result = evaluate_interpolation(model, _batches(tokens, config), pairs=12, num_steps=4)
    assert (result["pairs"], result["steps"]) == (12, 4)
    greedy = evaluate_model(model, _batches(tokens[:12], config),
                            num_bars=config.data.num_bars)["sampled_accuracy_greedy"]
    assert result["accuracy_to_a"][0] == pytest.approx(greedy)
    to_a, to_b = result["accuracy_to_a"], result["accuracy_to_b"]
    assert to_a[0] > 0.7 and to_b[-1] > 0.7
    assert to_a[0] > to_a[-1] and to_b[-1] > to_b[0]
    untrained = evaluate_interpolation(build_model(config), _batches(tokens, config), pairs=12)
    assert untrained["accuracy_to_a"][0] < to_a[0] - 0.3
    assert evaluate_interpolation(model, _batches(tokens[:1], config)) == {}


def test_untrained_model_reports_lower_accuracy_than_trained(overfit_run, tmp_path):
    run_dir, config, tokens = overfit_run
    from musicvae_tf.models.music_vae.model import build_model
    from musicvae_tf.models.loading import load_run_model

    trained = evaluate_model(load_run_model(run_dir)[0], _batches(tokens, config), num_bars=2)
    untrained = evaluate_model(build_model(config), _batches(tokens, config), num_bars=2)
    assert untrained["teacher_forced_accuracy"] < trained["teacher_forced_accuracy"] - 0.3
    assert untrained["reconstruction_nll"] > trained["reconstruction_nll"]


def test_evaluate_command_on_a_hierarchical_run(tmp_path, capsys):
    config = tiny_config("data.num_bars=4", hierarchical=True)
    tokens = synthetic_tokens(config, count=24)
    data = tmp_path / "data"
    write_prepared_data(data, config, {"train": tokens, "test": tokens[:10]})
    run_dir = tmp_path / "run"
    _train(run_dir, config, tokens, 6)
    out = tmp_path / "eval.json"
    assert main(["evaluate", "--run-dir", str(run_dir), "--data", str(data), "--split", "test",
                 "--batch-size", "4", "--out", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "teacher-forced accuracy" in printed and "active latent units" in printed
    result = json.loads(out.read_text())
    assert (result["split"], result["num_sequences"]) == ("test", 10)
    for name in ("teacher_forced", "sampled", "sampled_greedy"):
        values = result["per_bar_accuracy"][name]
        assert len(values) == 4 and all(0 <= v <= 1 for v in values)
    assert 0 <= result["teacher_forced_accuracy"] <= 1
    assert result["model"].endswith("model.keras")
    assert result["interpolation"]["pairs"] == 5 and len(result["interpolation"]["accuracy_to_b"]) == 5
    assert "interpolation to A (greedy)" in printed


def test_evaluate_command_errors_are_one_line(tmp_path, capsys):
    assert main(["evaluate", "--run-dir", str(tmp_path), "--data", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"musicvae-tf evaluate: error: {tmp_path} is not a model dir (no config.yaml)"
    assert main(["evaluate", "--model", "no-such-model", "--data", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("musicvae-tf evaluate: error: model not found: no-such-model (not a "
                          "path; shipped models:") and "\n" not in err
