"""The generic trainer on one CPU device: learning, run-dir outputs, exact resume, NaN stop, skip."""

from __future__ import annotations

import json
import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from data_pipelines.errors import MusicVAEError
from musicvae_tf.training import TrainingTask, set_precision, train
from musicvae_tf.training.metrics_log import read_metrics
from musicvae_tf.models.music_vae.task import VAETask
from training_support import synthetic_tokens, tiny_config, token_dataset_fn


@pytest.fixture(autouse=True)
def float32_policy():
    yield
    set_precision("float32")


def _train_vae(run_dir, config, steps, **kwargs):
    tokens = synthetic_tokens(config)
    return train(lambda: VAETask(config), token_dataset_fn(tokens, config), run_dir, config,
                 steps=steps, strategy_name="cpu", progress=False, log=lambda _: None, **kwargs)


def _checkpointed_state(run_dir, config, precision="float32"):
    """Model weights, optimiser iterations and step stored in the run's newest checkpoint."""
    from musicvae_tf.training import build_optimizer

    task = VAETask(config)
    optimizer = build_optimizer(task.learning_rate, precision)
    optimizer.build(task.trainable_variables)
    step = tf.Variable(0, dtype=tf.int64)
    checkpoint = tf.train.Checkpoint(model=task.model, optimizer=optimizer, step=step)
    checkpoint.restore(tf.train.latest_checkpoint(str(run_dir / "ckpt"))).assert_consumed()
    return [w.numpy() for w in task.model.weights], int(optimizer.iterations.numpy()), int(step)


def test_vae_learns_and_writes_every_run_output(tmp_path):
    config = tiny_config()
    result = _train_vae(tmp_path, config, 40)
    assert (result.start_step, result.final_step, result.stop_reason) == (0, 40, "steps")
    rows = read_metrics(tmp_path / "metrics.jsonl")
    assert [r["step"] for r in rows] == list(range(1, 41))
    for key in ("loss", "reconstruction", "kl_bits", "beta", "learning_rate", "accuracy",
                "global_norm", "steps_per_sec"):
        assert all(math.isfinite(r[key]) for r in rows), key
    first = np.mean([r["loss"] for r in rows[:5]])
    last = np.mean([r["loss"] for r in rows[-5:]])
    assert last < 0.8 * first
    assert rows[-1]["accuracy"] > rows[0]["accuracy"]
    assert rows[-1]["learning_rate"] < rows[0]["learning_rate"]
    assert (tmp_path / "config.yaml").is_file()
    assert (tmp_path / "training_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert list((tmp_path / "logs").glob("events.out.tfevents.*"))
    assert tf.train.latest_checkpoint(str(tmp_path / "ckpt")).endswith("ckpt-40")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    for saved, trained in zip(loaded.weights, _checkpointed_state(tmp_path, config)[0]):
        np.testing.assert_array_equal(saved.numpy(), trained)


def test_resumed_run_matches_an_uninterrupted_one(tmp_path):
    config = tiny_config()
    _train_vae(tmp_path / "straight", config, 12)
    first = _train_vae(tmp_path / "resumed", config, 10)
    assert first.checkpoint.endswith("ckpt-10")
    second = _train_vae(tmp_path / "resumed", config, 12)
    assert (second.start_step, second.final_step) == (10, 12)
    weights_a, iterations_a, step_a = _checkpointed_state(tmp_path / "straight", config)
    weights_b, iterations_b, step_b = _checkpointed_state(tmp_path / "resumed", config)
    assert iterations_a == iterations_b == step_a == step_b == 12
    for a, b in zip(weights_a, weights_b):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    rows = read_metrics(tmp_path / "resumed" / "metrics.jsonl")
    assert [r["step"] for r in rows] == list(range(1, 13))


class _ExplodingTask(TrainingTask):
    """Linear regression whose loss becomes NaN from global step ``bad_step`` on."""

    def __init__(self, bad_step):
        self.bad_step = bad_step
        self.model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])

    def losses(self, batch, step, training):
        x, y = batch
        error = tf.reduce_mean(tf.square(self.model(x)[:, 0] - y))
        poison = tf.where(step + 1 >= self.bad_step, float("nan"), 0.0)
        return {"loss": error + poison}


def _regression_dataset_fn(input_context):
    x = np.random.default_rng(0).normal(size=(64, 3)).astype("float32")
    data = tf.data.Dataset.from_tensor_slices((x, x.sum(axis=1))).repeat()
    return data.batch(input_context.get_per_replica_batch_size(8), drop_remainder=True)


def test_non_finite_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path):
    config = tiny_config("training.checkpoint_every=5")
    with pytest.raises(MusicVAEError) as error:
        train(lambda: _ExplodingTask(bad_step=7), _regression_dataset_fn, tmp_path, config,
              steps=20, strategy_name="cpu", progress=False)
    message = str(error.value)
    assert "loss became nan at step 7" in message and "ckpt-5" in message
    assert "\n" not in message
    assert tf.train.latest_checkpoint(str(tmp_path / "ckpt")).endswith("ckpt-5")
    assert not (tmp_path / "model.keras").exists()
    assert json.loads((tmp_path / "metrics.jsonl").read_text().splitlines()[-1])["step"] == 6


def test_update_is_skipped_when_the_gradient_norm_reaches_skip_norm(tmp_path):
    config = tiny_config("training.skip_norm=1.0e-6")
    captured = {}

    def builder():
        task = _ExplodingTask(bad_step=10**9)
        captured["task"], captured["initial"] = task, [w.numpy() for w in task.model.weights]
        return task

    result = train(builder, _regression_dataset_fn, tmp_path, config, steps=3,
                   strategy_name="cpu", progress=False)
    assert result.final_step == 3 and result.last_metrics["skipped"] == 1.0
    assert result.last_metrics["global_norm"] > 1e-6
    stored = dict(tf.train.list_variables(result.checkpoint))
    assert "optimizer/_iterations/.ATTRIBUTES/VARIABLE_VALUE" in stored
    assert tf.train.load_variable(result.checkpoint,
                                  "optimizer/_iterations/.ATTRIBUTES/VARIABLE_VALUE") == 0
    assert tf.train.load_variable(result.checkpoint, "step/.ATTRIBUTES/VARIABLE_VALUE") == 3
    for before, after in zip(captured["initial"], captured["task"].model.weights):
        np.testing.assert_array_equal(before, after.numpy())


def test_time_budget_stops_cleanly_and_exports(tmp_path):
    config = tiny_config()
    result = _train_vae(tmp_path, config, 1000, minutes=1e-6)
    assert result.stop_reason == "time" and result.final_step < 1000
    assert (tmp_path / "model.keras").is_file()
    assert tf.train.latest_checkpoint(str(tmp_path / "ckpt")).endswith(f"ckpt-{result.final_step}")


@pytest.mark.parametrize("precision", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_learns_with_float32_logits(tmp_path, precision):
    config = tiny_config()
    tokens = synthetic_tokens(config)
    result = train(lambda: VAETask(config), token_dataset_fn(tokens, config), tmp_path, config,
                   steps=40, strategy_name="cpu", precision=precision, progress=False)
    rows = read_metrics(tmp_path / "metrics.jsonl")
    applied = [r for r in rows if r["skipped"] == 0.0]
    assert len(applied) >= 25  # loss scaling may skip a few overflowing steps at the start
    assert np.mean([r["loss"] for r in rows[-5:]]) < 0.8 * np.mean([r["loss"] for r in rows[:5]])
    model = keras.saving.load_model(tmp_path / "model.keras")
    outputs = model(tf.one_hot(tokens[:2], config.data.num_classes), training=False)
    assert outputs["logits"].dtype == tf.float32
    assert result.final_step == 40


@pytest.mark.parametrize("extra", [(), ("model.mu_batch_norm=0.5",)])
def test_a_run_without_model_keras_loads_its_newest_checkpoint(tmp_path, extra):
    # With mu_batch_norm the model has non-trainable state (moving statistics) to restore too.
    from musicvae_tf.models.loading import load_run_model

    config = tiny_config(*extra)
    _train_vae(tmp_path, config, 10)
    exported = keras.saving.load_model(tmp_path / "model.keras")
    (tmp_path / "model.keras").unlink()  # as while the run is still training
    restored, _, source = load_run_model(tmp_path)
    assert source.endswith("ckpt-10")
    for ours, theirs in zip(restored.weights, exported.weights):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
