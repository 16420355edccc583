"""model.lstm_impl: Keras's LSTM path is numerically the fused kernel, over the same weights."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from musicvae_tf.layers import lstm_stack
from data_pipelines.errors import MusicVAEError
from musicvae_tf.layers.lstm_keras import resolve_lstm_impl
from musicvae_tf.layers.lstm_stack import LSTMStack
from musicvae_tf.models.music_vae.model import build_model
from musicvae_tf.training.run_files import check_resumable
from model_support import random_tokens, tiny_config

TOLERANCE = dict(rtol=1e-5, atol=1e-5)


@pytest.fixture(autouse=True)
def full_float32_matmuls():
    """On a GPU this file compares cuDNN with the fused kernel: TF32 matmuls would differ by 1e-3."""
    previous = tf.config.experimental.tensor_float_32_execution_enabled()
    tf.config.experimental.enable_tensor_float_32_execution(False)
    yield
    tf.config.experimental.enable_tensor_float_32_execution(previous)


def _outputs_and_gradients(layer, sources, fn):
    """``fn()``'s output tensors, then the gradient of a weighted sum of them w.r.t. every
    trainable variable of ``layer`` and every tensor in ``sources``."""
    with tf.GradientTape() as tape:
        tape.watch(sources)
        outputs = tf.nest.flatten(fn())
        loss = sum(tf.reduce_sum(tf.cast(o, tf.float32) * tf.sin(
            tf.reshape(tf.range(tf.size(o), dtype=tf.float32), tf.shape(o)))) for o in outputs)
    grads = tape.gradient(loss, layer.trainable_variables + sources)
    return [o.numpy() for o in outputs], [g.numpy() for g in grads]


def _assert_same(fused, keras_path):
    for ours, reference in zip(keras_path[0] + keras_path[1], fused[0] + fused[1]):
        np.testing.assert_allclose(ours, reference, **TOLERANCE)


def _twin_stacks(**kwargs):
    fused = LSTMStack(impl="fused", **kwargs)
    fused.build()
    other = LSTMStack(impl="keras", **kwargs)
    other.build()
    other.set_weights(fused.get_weights())
    return fused, other


def test_auto_is_fused_on_cpu_and_keras_on_gpu():
    on_gpu = bool(tf.config.list_logical_devices("GPU"))
    assert resolve_lstm_impl("auto") == ("keras" if on_gpu else "fused")
    assert resolve_lstm_impl("fused") == "fused" and resolve_lstm_impl("keras") == "keras"
    with pytest.raises(ValueError, match="unknown impl"):
        LSTMStack([4], input_dim=3, impl="cudnn")


@pytest.mark.skipif(bool(tf.config.list_logical_devices("GPU")), reason="CPU behaviour")
def test_auto_stack_runs_the_fused_kernel_on_cpu(monkeypatch):
    def refuse(*args):
        raise AssertionError("auto took the keras path on a CPU")

    monkeypatch.setattr(lstm_stack, "keras_lstm", refuse)
    stack = LSTMStack([4], input_dim=3)
    stack.build()
    outputs, _ = stack(tf.zeros([2, 5, 3]))
    assert outputs.shape == (2, 5, 4)


def test_stack_with_conditioning_and_initial_states():
    fused, other = _twin_stacks(units=[5, 3], input_dim=4, conditioning_dim=2)
    x = tf.random.stateless_normal([2, 6, 4], seed=[1, 2])
    cond = tf.random.stateless_normal([2, 2], seed=[3, 4])
    states = [tf.random.stateless_normal([2, s], seed=[5, i]) for i, s in
              enumerate(fused.state_sizes())]
    sources = [x, cond] + states
    results = [_outputs_and_gradients(stack, sources, lambda s=stack: s(
        x, conditioning=cond, initial_states=states)) for stack in (fused, other)]
    _assert_same(*results)


def test_bidirectional_stack():
    fused, other = _twin_stacks(units=[4, 3], input_dim=3, bidirectional=True)
    x = tf.random.stateless_normal([2, 7, 3], seed=[6, 7])
    results = [_outputs_and_gradients(stack, [x], lambda s=stack: s(x))
               for stack in (fused, other)]
    _assert_same(*results)


def _twin_models(hierarchical):
    config = tiny_config(hierarchical, "model.lstm_impl=fused")
    fused = build_model(config)
    other = build_model(tiny_config(hierarchical, "model.lstm_impl=keras"))
    other.set_weights(fused.get_weights())
    return config, fused, other


def test_encoder():
    config, *models = _twin_models(False)
    one_hot = tf.one_hot(random_tokens(config), config.data.num_classes)
    results = [_outputs_and_gradients(m.encoder, [one_hot], lambda m=m: m.encoder(one_hot))
               for m in models]
    _assert_same(*results)


@pytest.mark.parametrize("hierarchical", [False, True])
def test_decoder(hierarchical):
    config, *models = _twin_models(hierarchical)
    one_hot = tf.one_hot(random_tokens(config), config.data.num_classes)
    z = tf.random.stateless_normal([3, config.model.latent_dim], seed=[8, 9])
    results = [_outputs_and_gradients(m.decoder, [z], lambda m=m: m.decoder(z, one_hot))
               for m in models]
    _assert_same(*results)


@pytest.mark.parametrize("saved_impl, loaded_impl", [("keras", "fused"), ("fused", "keras")])
def test_keras_file_written_by_one_impl_loads_into_the_other(tmp_path, saved_impl, loaded_impl):
    config = tiny_config(True, f"model.lstm_impl={saved_impl}")
    saved = build_model(config)
    path = tmp_path / "model.keras"
    saved.save(path)
    assert keras.saving.load_model(path).lstm_impl == saved_impl
    loaded = build_model(tiny_config(True, f"model.lstm_impl={loaded_impl}"))
    assert [w.path for w in loaded.weights] == [w.path for w in saved.weights]
    loaded.load_weights(path)
    one_hot = tf.one_hot(random_tokens(config), config.data.num_classes)
    np.testing.assert_allclose(loaded(one_hot)["logits"].numpy(),
                               saved(one_hot)["logits"].numpy(), **TOLERANCE)
    # Training checkpoints hold the model's variables as a list in model order (the optimiser's).
    checkpoint = tf.train.Checkpoint(variables=list(saved.trainable_variables)).write(
        str(tmp_path / "ckpt"))
    restored = build_model(tiny_config(True, f"model.lstm_impl={loaded_impl}"))
    tf.train.Checkpoint(variables=list(restored.trainable_variables)).read(
        checkpoint).assert_consumed()
    for a, b in zip(restored.get_weights(), saved.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_run_may_resume_with_the_other_impl():
    saved = tiny_config(False, "model.lstm_impl=fused")
    check_resumable(saved, tiny_config(False, "model.lstm_impl=keras"), "run")
    with pytest.raises(MusicVAEError, match="model.latent_dim"):
        check_resumable(saved, tiny_config(False, "model.lstm_impl=keras", "model.latent_dim=6"),
                        "run")


def test_training_steps_are_the_same_with_either_impl():
    from musicvae_tf.training import setup_training
    from musicvae_tf.models.music_vae.task import VAETask
    from training_support import synthetic_tokens, token_dataset_fn
    from training_support import tiny_config as tiny_training_config

    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    runs, initial = [], None
    for impl in ("fused", "keras"):
        config = tiny_training_config(f"model.lstm_impl={impl}", hierarchical=True)
        setup = setup_training(lambda config=config: VAETask(config), strategy, "float32", seed=0)
        if initial is None:
            initial = setup.task.model.get_weights()
        setup.task.model.set_weights(initial)
        batches = iter(strategy.distribute_datasets_from_function(
            token_dataset_fn(synthetic_tokens(config), config)))
        logs = [setup.train_step(next(batches)) for _ in range(2)]
        runs.append(([float(log["loss"]) for log in logs]
                     + [float(log["global_norm"]) for log in logs],
                     setup.task.model.get_weights()))
    np.testing.assert_allclose(runs[1][0], runs[0][0], **TOLERANCE)
    for ours, reference in zip(runs[1][1], runs[0][1]):
        np.testing.assert_allclose(ours, reference, **TOLERANCE)
