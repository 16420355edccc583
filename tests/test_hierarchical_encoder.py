"""Magenta's hierarchical encoder (hier-* configs): one bidirectional LSTM per bar, one over the bars."""

import dataclasses

import numpy as np
import pytest

from magenta_support import model_weights, randomize_weights
from musicvae_tf.cli import main


def small_config(**model_fields):
    from musicvae_tf.config import load_config

    config = load_config("hier-mel_16bar")
    data = dataclasses.replace(config.data, num_bars=4)
    sizes = dict(encoder_units=(6, 5), latent_dim=4, conductor_units=(7,), decoder_units=(8,))
    return dataclasses.replace(config, data=data, model=dataclasses.replace(
        config.model, **(sizes | model_fields)))


def test_posterior_reads_each_bar_then_the_bar_embeddings():
    import tensorflow as tf

    from musicvae_tf.models.music_vae.encoder import final_states
    from musicvae_tf.models.music_vae.model import build_model

    model = build_model(small_config())
    encoder = model.encoder
    tokens = np.random.default_rng(0).integers(0, 90, (3, 64))
    inputs = tf.one_hot(tokens, 90)
    mu, sigma = model.encode(inputs)
    # The same computation bar by bar: each bar alone through level 0, then level 1.
    bars = [final_states(encoder.lstm, inputs[:, 16 * b:16 * (b + 1)]) for b in range(4)]
    h = final_states(encoder.top_lstm, tf.stack(bars, axis=1))
    expected_mu, expected_sigma = encoder.posterior(h)
    np.testing.assert_allclose(mu, expected_mu, atol=1e-6)
    np.testing.assert_allclose(sigma, expected_sigma, atol=1e-6)
    # A bar's notes reach the posterior (the encoder does not only read the last bar).
    changed = tokens.copy()
    changed[:, 3] = (changed[:, 3] + 7) % 90
    assert np.abs(model.encode(tf.one_hot(changed, 90))[0] - mu).max() > 0


def test_one_level_is_refused_in_one_line(tmp_path, capsys):
    code = main(["train", "--config", "hier-mel_16bar", "--set", "model.encoder_units=[64]",
                 "--data", str(tmp_path / "none"), "--run-dir", str(tmp_path / "run")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "model.encoder_units must list 2 sizes" in err[0]


def test_magenta_names_and_an_export_import_round_trip(tmp_path, capsys):
    import tensorflow as tf

    from musicvae_tf.models.music_vae.model import build_model
    from musicvae_tf.trained_model import TrainedModel
    from musicvae_tf.training.run_files import export_model, write_run_config

    config = small_config()
    model = build_model(config)
    randomize_weights(model, seed=5)
    run_dir = tmp_path / "run"
    write_run_config(config, run_dir)
    export_model(model, run_dir)
    assert main(["export-magenta", "--model", str(run_dir), "--out", str(tmp_path / "magenta")]) == 0
    capsys.readouterr()
    reader = tf.train.load_checkpoint(str(tmp_path / "magenta"))
    shapes = reader.get_variable_to_shape_map()
    cell = "bidirectional_rnn/{}/multi_rnn_cell/cell_0/lstm_cell/kernel"
    for direction in ("fw", "bw"):
        assert shapes[f"encoder/hierarchical_level_0/cell_0/{cell.format(direction)}"] == [90 + 6, 24]
        assert shapes[f"encoder/hierarchical_level_1/cell_0/{cell.format(direction)}"] == [12 + 5, 20]
    assert not any(name.startswith("encoder/cell_") for name in shapes)

    # Import into the full-size config: the sizes (and the encoder kind) come from the checkpoint.
    assert main(["import-magenta", "--config", "hier-mel_16bar", "--checkpoint",
                 str(tmp_path / "magenta"), "--out", str(tmp_path / "back")]) == 0
    assert "model.encoder_units: [1024, 1024] -> [6, 5]" in capsys.readouterr().out
    back = TrainedModel.load(tmp_path / "back")
    assert back.config.model.encoder == "hierarchical"
    before, after = model_weights(model), model_weights(back.model)
    assert sorted(before) == sorted(after)
    for path, value in before.items():
        np.testing.assert_array_equal(after[path], value, err_msg=path)


def test_flat_encoder_checkpoint_into_a_hierarchical_config_becomes_flat(tmp_path, capsys):
    """Sizes, the encoder kind included, follow the checkpoint and the change is reported."""
    from magenta_support import FIXTURES, TF1

    assert main(["import-magenta", "--config", "hier-mel_16bar", "--checkpoint",
                 str(FIXTURES / "hierdec_mel_16bar_tiny" / TF1), "--out", str(tmp_path / "o")]) == 0
    assert "model.encoder: hierarchical -> flat" in capsys.readouterr().out


@pytest.mark.parametrize("bars", [2, 16])
def test_full_size_parameter_count(bars):
    """hier-mel_16bar as Magenta builds it: level 0 kernel [90 + 1024 h, 4096], level 1 [2048 + 1024, 4096]."""
    import keras

    from musicvae_tf.config import load_config
    from musicvae_tf.models.music_vae.model import build_model

    config = load_config("hier-mel_16bar", [f"data.num_bars={bars}"])
    with keras.StatelessScope(initialize_variables=False):
        model = build_model(config)
    encoder = model.encoder
    level_0 = 2 * ((90 + 1024) * 4096 + 4096)
    level_1 = 2 * ((2048 + 1024) * 4096 + 4096)
    posterior = 2 * (2048 * 512 + 512)
    assert sum(int(np.prod(w.shape)) for w in encoder.weights) == level_0 + level_1 + posterior
