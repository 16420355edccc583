"""Magenta's 2-bar drum model (cat-drums_2bar_small, SPEC_MODELS §A1): its size and variable
layout, the 10-value roll the encoder reads against the 512-way one-hot the decoder is taught
with, prepare/train/sample/interpolate/encode/evaluate from the CLI on drum MIDI the test writes
(output on MIDI channel 10), import-magenta/export-magenta and the ``.keras`` round trip."""

from __future__ import annotations

import keras
import numpy as np
import pretty_midi
import pytest

from data_pipelines.encodings.drums import DRUM_CLASS_PITCHES, NUM_DRUM_TOKENS
from magenta_support import write_tf1_checkpoint
from multitrack_support import (ShapeOnlyCheckpoint, assert_same_arrays, magenta_shapes,
                                note_channels, random_arrays, read_tf1_checkpoint, tiny_run,
                                write_drum_pieces)
from musicvae_tf.cli import main

TINY = ["model.encoder_units=[16]", "model.latent_dim=8", "model.decoder_units=[16, 12]",
        "training.batch_size=8", "training.checkpoint_every=1000", "training.summary_every=1000",
        "data.eval_fraction=0.2", "data.test_fraction=0.2",
        # cat-drums_2bar_small's inverse-sigmoid scheduled sampling, fast enough to feed back
        # samples within 3 steps (the step-by-step decoder over 512 classes).
        "training.sampling_schedule=inverse_sigmoid", "training.sampling_rate=1"]
FIRST_PITCHES = {pitches[0] for pitches in DRUM_CLASS_PITCHES}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny drum model trained 3 steps from the CLI on 10 drum MIDI files, with scheduled
    sampling."""
    root = tmp_path_factory.mktemp("drums")
    write_drum_pieces(root / "midi", 10)
    return tiny_run(root, "demo-drums_2bar", TINY, root / "midi")


@pytest.mark.parametrize("name, sizes, parameters", [
    ("cat-drums_2bar_small", ([512], 256, [256, 256]), 4_636_672),
    ("cat-drums_2bar_big", ([2048], 512, [2048, 2048, 2048]), 137_582_080),
])
def test_full_size_configs_have_magentas_variables(name, sizes, parameters):
    from musicvae_tf.config import load_config
    from musicvae_tf.models.music_vae.magenta_import import resolve_config
    from musicvae_tf.models.music_vae.magenta_layout import check_checkpoint, magenta_layout
    from musicvae_tf.models.music_vae.model import build_model

    shapes = magenta_shapes(10, sizes[0], sizes[1], sizes[2], [NUM_DRUM_TOKENS])
    assert sum(int(np.prod(s)) for s in shapes.values()) == parameters
    config = load_config(name)
    assert resolve_config(ShapeOnlyCheckpoint(shapes), config) == (config, [])
    with keras.StatelessScope(initialize_variables=False):
        model = build_model(config)
    assert model.count_params() == parameters
    check_checkpoint(magenta_layout(model), shapes, name)  # names, shapes, nothing extra


def test_encoder_reads_the_roll_and_the_decoder_the_512_way_one_hot(trained):
    from data_pipelines.reader import make_dataset
    from musicvae_tf.trained_model import TrainedModel

    model = TrainedModel.load(trained)
    inputs, tokens = next(iter(make_dataset(str(trained.parent / "data"), "train",
                                            model.data_config, 4, training=False)))
    assert inputs.shape[1:] == (32, 10) and tokens.shape[1:] == (32,)
    # The roll: class bits, then the no-hit bit exactly at silent steps.
    bits = (tokens.numpy()[..., None] >> np.arange(9)) & 1
    np.testing.assert_array_equal(inputs.numpy(), np.concatenate(
        [bits, (tokens.numpy() == 0)[..., None]], axis=-1))
    vae = model.model
    assert vae.encoder.input_dim == 10 and vae.decoder.lstm.input_dim == NUM_DRUM_TOKENS
    targets, output_tokens, controls = model.encoding.decoder_inputs(tokens)
    assert targets.shape[-1] == NUM_DRUM_TOKENS and controls is None
    np.testing.assert_array_equal(np.argmax(targets, -1), output_tokens)
    logits = vae.decode_logits(vae.encode(inputs)[0], targets)
    assert logits.shape[1:] == (32, NUM_DRUM_TOKENS)


def test_training_fed_back_its_own_samples(trained):
    import json

    last = json.loads((trained / "metrics.jsonl").read_text().splitlines()[-1])
    assert last["step"] == 3 and last["sampling_probability"] > 0.5


def _drum_notes(path):
    """The notes of a written drum MIDI file: one drum instrument (none when silent), channel 10."""
    midi = pretty_midi.PrettyMIDI(str(path))
    assert [instrument.is_drum for instrument in midi.instruments] in ([True], [])
    assert note_channels(path) <= {9}
    return [note for instrument in midi.instruments for note in instrument.notes]


def test_sample_writes_drum_midi_on_channel_10_and_a_grid_png(trained, tmp_path, capsys):
    out = tmp_path / "samples"
    assert main(["sample", "--model", str(trained), "--num-outputs", "3", "--seed", "1",
                 "--temperature", "1.0", "--no-wav", "--out", str(out)]) == 0
    for index in range(3):
        notes = _drum_notes(out / f"sample_{index:02d}.mid")
        assert notes and {note.pitch for note in notes} <= FIRST_PITCHES
        assert (out / f"sample_{index:02d}.png").stat().st_size > 0


def test_interpolate_and_encode_drum_files(trained, tmp_path, capsys):
    midi = sorted((trained.parent / "midi").glob("*.mid"))
    out = tmp_path / "interp"
    assert main(["interpolate", "--model", str(trained), "--input", str(midi[0]), str(midi[1]),
                 "--num-outputs", "3", "--seed", "2", "--no-wav", "--out", str(out)]) == 0
    for index in range(3):
        _drum_notes(out / f"interp_{index:02d}.mid")
    assert (out / "interpolation.png").is_file()
    encoded = tmp_path / "encoded"
    assert main(["encode", "--model", str(trained), "--input", str(midi[0]), "--seed", "3",
                 "--no-wav", "--out", str(encoded)]) == 0
    with np.load(encoded / "latents.npz") as latents:
        assert latents["mu"].shape[1] == 8 and len(latents["bar"]) >= 1
    assert _drum_notes(encoded / "input_000.mid")
    _drum_notes(encoded / "recon_000.mid")


def test_evaluate_writes_the_json(trained, capsys):
    import json

    assert main(["evaluate", "--model", str(trained), "--data", str(trained.parent / "data"),
                 "--no-progress"]) == 0
    result = json.loads((trained / "eval_test.json").read_text())
    assert result["num_sequences"] > 0 and 0.0 <= result["teacher_forced_accuracy"] <= 1.0


def test_melody_measures_refuse_a_drum_model_in_one_line(trained, capsys):
    for argv in (["attributes", "--model", str(trained), "--data", str(trained.parent / "data")],
                 ["stats", "--model", str(trained), "--num-samples", "2"]):
        assert main(argv) == 1
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "data.encoding 'drums' windows are not melodies" in err


def test_keras_file_round_trip(trained, tmp_path):
    from musicvae_tf.trained_model import TrainedModel

    model = TrainedModel.load(trained)
    loaded = keras.models.load_model(trained / "model.keras")
    assert loaded.get_config() == model.model.get_config()
    z = model.sample_latents(4, seed=0)
    np.testing.assert_array_equal(loaded.sample_tokens(z, 1.0, seed=5).numpy(),
                                  model.model.sample_tokens(z, 1.0, seed=5).numpy())


def test_magenta_checkpoint_imports_samples_and_exports_back(tmp_path, capsys):
    """A synthetic TF1 checkpoint with Magenta's drum names (§A5): import, sample, export; the
    export holds every original variable (LSTM biases up to float32 rounding near 1.0)."""
    arrays = random_arrays(magenta_shapes(10, [16], 8, [16, 12], [NUM_DRUM_TOKENS]))
    prefix = write_tf1_checkpoint(tmp_path / "magenta" / "model.ckpt-7", arrays)
    imported = tmp_path / "imported"
    assert main(["import-magenta", "--config", "cat-drums_2bar_small", "--checkpoint",
                 str(prefix), "--out", str(imported)]) == 0
    assert "model.latent_dim: 256 -> 8" in capsys.readouterr().out
    assert main(["sample", "--model", str(imported), "--num-outputs", "1", "--seed", "0",
                 "--no-wav", "--out", str(tmp_path / "samples")]) == 0
    _drum_notes(tmp_path / "samples" / "sample_00.mid")
    assert main(["export-magenta", "--model", str(imported), "--out",
                 str(tmp_path / "exported")]) == 0
    assert_same_arrays(read_tf1_checkpoint(tmp_path / "exported" / "model.ckpt"), arrays)


def test_drum_checkpoint_into_a_melody_config_is_one_line(tmp_path, capsys):
    arrays = random_arrays(magenta_shapes(10, [16], 8, [16], [NUM_DRUM_TOKENS]))
    prefix = write_tf1_checkpoint(tmp_path / "model.ckpt-1", arrays)
    assert main(["import-magenta", "--config", "cat-mel_2bar_small", "--checkpoint", str(prefix),
                 "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "predicts 512 token classes but config cat-mel_2bar_small has 90" in err


def test_model_trained_here_round_trips_through_magentas_layout(tmp_path):
    from magenta_support import model_weights, randomize_weights
    from musicvae_tf.config import load_config
    from musicvae_tf.models.music_vae.magenta_checkpoint import open_checkpoint
    from musicvae_tf.models.music_vae.magenta_export import write_magenta_checkpoint
    from musicvae_tf.models.music_vae.magenta_import import import_checkpoint
    from musicvae_tf.models.music_vae.model import build_model

    config = load_config("cat-drums_2bar_small", TINY[:3])
    model = build_model(config)
    randomize_weights(model, seed=3)
    write_magenta_checkpoint(model, tmp_path / "exported")
    with open_checkpoint(tmp_path / "exported") as reader:
        again = import_checkpoint(reader, config)
    assert again.differences == [] and again.config.model == config.model
    before, after = model_weights(model), model_weights(again.model)
    assert sorted(before) == sorted(after)
    for path, value in before.items():
        np.testing.assert_allclose(after[path], value, rtol=0, atol=2.0**-24, err_msg=path)
