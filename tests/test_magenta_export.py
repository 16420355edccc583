"""export-magenta writes Magenta-named TF1 checkpoints that import back to the same model."""

import numpy as np
import pytest

from magenta_support import (FIXTURE_CONFIGS, FIXTURES, TF1, checkpoint_arrays, imported,
                             model_weights, randomize_weights)
from musicvae_tf.cli import main

# Adding then removing the run-time forget bias of 1.0 rounds a bias to the float32 grid near 1.0.
FORGET_BIAS_ROUNDING = 2.0**-24


def read_checkpoint(prefix):
    import tensorflow as tf

    reader = tf.train.load_checkpoint(str(prefix))
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()}


@pytest.mark.parametrize("fixture", FIXTURE_CONFIGS)
def test_export_restores_magentas_names_shapes_and_values(fixture, tmp_path):
    from musicvae_tf.models.music_vae.magenta_export import write_magenta_checkpoint

    prefix = write_magenta_checkpoint(imported(fixture, TF1).model, tmp_path / "exported")
    written, original = read_checkpoint(prefix), checkpoint_arrays(fixture)
    assert written.pop("global_step") == 0
    assert sorted(written) == sorted(original)
    for name, value in original.items():
        assert written[name].shape == value.shape and written[name].dtype == np.float32, name
        tolerance = FORGET_BIAS_ROUNDING if name.endswith("lstm_cell/bias") else 0.0
        assert np.max(np.abs(written[name] - value)) <= tolerance, name


@pytest.mark.parametrize("fixture", FIXTURE_CONFIGS)
def test_export_then_import_round_trips_exactly(fixture, tmp_path):
    from musicvae_tf.models.music_vae.magenta_export import write_magenta_checkpoint

    first = imported(fixture, TF1)
    write_magenta_checkpoint(first.model, tmp_path / "exported")
    again = imported(fixture, str(tmp_path / "exported"))
    assert again.config == first.config
    before, after = model_weights(first.model), model_weights(again.model)
    assert sorted(before) == sorted(after)
    for path, value in before.items():
        np.testing.assert_array_equal(after[path], value, err_msg=path)


def test_cli_round_trip_of_a_model_trained_here(tmp_path, capsys):
    """A model that never came from Magenta: random weights, forget biases spread over [0.5, 2]."""
    import dataclasses

    from musicvae_tf.config import load_config
    from musicvae_tf.models.music_vae.model import build_model
    from musicvae_tf.training.run_files import export_model, write_run_config

    config = load_config("hierdec-mel_16bar")
    config = dataclasses.replace(config, model=dataclasses.replace(
        config.model, encoder_units=(12,), latent_dim=6, conductor_units=(10, 8), decoder_units=(9, 7)))
    model = build_model(config)
    randomize_weights(model, seed=3)
    run_dir = tmp_path / "run"
    write_run_config(config, run_dir)
    export_model(model, run_dir)
    assert main(["export-magenta", "--model", str(run_dir), "--out", str(tmp_path / "magenta")]) == 0
    assert "model.ckpt" in capsys.readouterr().out
    assert main(["import-magenta", "--config", "hierdec-mel_16bar", "--checkpoint",
                 str(tmp_path / "magenta"), "--out", str(tmp_path / "back")]) == 0
    from musicvae_tf.trained_model import TrainedModel

    back = TrainedModel.load(tmp_path / "back")
    assert back.config.model == config.model
    before, after = model_weights(model), model_weights(back.model)
    for path, value in before.items():
        np.testing.assert_array_equal(after[path], value, err_msg=path)


def test_export_refuses_to_overwrite_a_checkpoint(tmp_path, capsys):
    from data_pipelines.errors import MusicVAEError
    from musicvae_tf.models.music_vae.magenta_export import write_magenta_checkpoint

    write_magenta_checkpoint(imported("mel_2bar_tiny", TF1).model, tmp_path / "exported")
    with pytest.raises(MusicVAEError, match="already holds a checkpoint"):
        write_magenta_checkpoint(imported("mel_2bar_tiny", TF1).model, tmp_path / "exported")
    assert main(["export-magenta", "--model", str(FIXTURES / "absent"), "--out", str(tmp_path / "x")]) == 1
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_export_refuses_a_batch_normalised_posterior_mean():
    from model_support import tiny_model

    from data_pipelines.errors import MusicVAEError
    from musicvae_tf.models.music_vae.magenta_export import magenta_arrays

    _, model = tiny_model(False, "model.mu_batch_norm=0.5")
    with pytest.raises(MusicVAEError, match="no Magenta equivalent"):
        magenta_arrays(model)
