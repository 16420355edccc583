"""Magenta's 16-bar trio model (hierdec-trio_16bar, SPEC_MODELS §A2): its size and variable layout
(one conductor, bar-decoder cores core_decoder/core_decoder_<k> for melody, bass and drums),
prepare/train/sample/interpolate/encode/evaluate from the CLI on 3-track MIDI the test writes
(melody program 0, bass 33, drums on channel 10; a 3-lane piano roll), import-magenta and
export-magenta, and the ``.keras`` round trip."""

from __future__ import annotations

import keras
import numpy as np
import pretty_midi
import pytest

from magenta_support import write_tf1_checkpoint
from multitrack_support import (ShapeOnlyCheckpoint, assert_same_arrays, magenta_shapes,
                                note_channels, random_arrays, read_tf1_checkpoint, tiny_run,
                                write_trio_pieces)
from musicvae_tf.cli import main

SPLITS = [90, 90, 512]
TINY = ["data.num_bars=4", "model.encoder_units=[16]", "model.latent_dim=8",
        "model.conductor_units=[12]", "model.decoder_units=[12]", "training.batch_size=4",
        "training.checkpoint_every=1000", "training.summary_every=1000",
        "data.eval_fraction=0.2", "data.test_fraction=0.2"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny 4-bar trio model trained 3 steps from the CLI on 8 three-track MIDI files."""
    root = tmp_path_factory.mktemp("trio")
    write_trio_pieces(root / "midi", 8, bars=6)
    return tiny_run(root, "demo-hierdec-trio_16bar", TINY, root / "midi")


def test_full_size_config_has_magentas_variables():
    from musicvae_tf.config import load_config
    from musicvae_tf.models.music_vae.magenta_import import resolve_config
    from musicvae_tf.models.music_vae.magenta_layout import check_checkpoint, magenta_layout
    from musicvae_tf.models.music_vae.model import build_model

    shapes = magenta_shapes(692, [2048, 2048], 512, [1024, 1024], SPLITS,
                            conductor_units=[1024, 1024])
    # Core cell_0 kernels: own split + conductor embedding 1024 + h 1024 (§A2: 1114 and 1536 inputs).
    assert [shapes[f"core_decoder/core_decoder_{k}/decoder/multi_rnn_cell/cell_0/lstm_cell/kernel"]
            for k in range(3)] == [(2138, 4096), (2138, 4096), (2560, 4096)]
    parameters = sum(int(np.prod(s)) for s in shapes.values())
    assert parameters == 230_975_156
    config = load_config("hierdec-trio_16bar")
    resolved, differences = resolve_config(ShapeOnlyCheckpoint(shapes), config)
    assert differences == [] and resolved == config
    with keras.StatelessScope(initialize_variables=False):
        model = build_model(config)
    assert model.count_params() == parameters
    check_checkpoint(magenta_layout(model), shapes, config.name)  # names, shapes, nothing extra


def _tracks(path):
    """``{(program, is_drum): notes}`` of a written trio MIDI file (drums on channel 10)."""
    midi = pretty_midi.PrettyMIDI(str(path))
    tracks = {(int(i.program), i.is_drum): i.notes for i in midi.instruments}
    assert set(tracks) <= {(0, False), (33, False), (0, True)}
    assert 9 in note_channels(path) or (0, True) not in tracks
    return tracks


def test_prepared_windows_and_the_decoders_inputs(trained):
    from data_pipelines.reader import make_dataset
    from musicvae_tf.trained_model import TrainedModel

    model = TrainedModel.load(trained)
    inputs, tokens = next(iter(make_dataset(str(trained.parent / "data"), "train",
                                            model.data_config, 4, training=False)))
    assert inputs.shape[1:] == (64, 692) and tokens.shape[1:] == (64, 3)
    decoder = model.model.decoder
    assert [core[0].input_dim for core in decoder.cores()] == SPLITS  # each core its own split
    assert [lane.name for lane in model.encoding.roll_lanes(tokens[0].numpy())] == \
        ["melody", "bass", "drums"]


def test_sample_writes_three_tracks_and_a_three_lane_roll(trained, tmp_path, capsys):
    out = tmp_path / "samples"
    assert main(["sample", "--model", str(trained), "--num-outputs", "2", "--seed", "1",
                 "--temperature", "1.0", "--no-wav", "--out", str(out)]) == 0
    for index in range(2):
        tracks = _tracks(out / f"sample_{index:02d}.mid")
        assert set(tracks) == {(0, False), (33, False), (0, True)}
        assert (out / f"sample_{index:02d}.png").stat().st_size > 0


def test_interpolate_encode_and_evaluate(trained, tmp_path, capsys):
    import json

    midi = sorted((trained.parent / "midi").glob("*.mid"))
    out = tmp_path / "interp"
    assert main(["interpolate", "--model", str(trained), "--input", str(midi[0]), str(midi[1]),
                 "--num-outputs", "3", "--seed", "2", "--no-wav", "--out", str(out)]) == 0
    assert len(_tracks(out / "input_a.mid")) == 3
    for index in range(3):
        _tracks(out / f"interp_{index:02d}.mid")
    assert (out / "interpolation.png").is_file()
    encoded = tmp_path / "encoded"
    assert main(["encode", "--model", str(trained), "--input", str(midi[0]), "--bar", "2",
                 "--seed", "3", "--no-wav", "--out", str(encoded)]) == 0
    with np.load(encoded / "latents.npz") as latents:
        assert latents["mu"].shape == (1, 8) and list(latents["bar"]) == [2]
    assert len(_tracks(encoded / "input_000.mid")) == 3
    assert main(["evaluate", "--model", str(trained), "--data", str(trained.parent / "data"),
                 "--no-progress"]) == 0
    result = json.loads((trained / "eval_test.json").read_text())
    assert result["num_sequences"] > 0 and 0.0 <= result["teacher_forced_accuracy"] <= 1.0


def test_stats_refuse_trio_data_in_one_line(trained, capsys):
    assert main(["stats", "--data", str(trained.parent / "data")]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "data.encoding 'trio' windows are not melodies" in err


def test_keras_file_round_trip(trained):
    from musicvae_tf.trained_model import TrainedModel

    model = TrainedModel.load(trained)
    loaded = keras.models.load_model(trained / "model.keras")
    assert loaded.get_config() == model.model.get_config()
    z = model.sample_latents(2, seed=0)
    tokens = loaded.sample_tokens(z, 1.0, seed=5).numpy()
    assert tokens.shape == (2, 64, 3)
    np.testing.assert_array_equal(tokens, model.model.sample_tokens(z, 1.0, seed=5).numpy())


def test_magenta_checkpoint_imports_samples_and_exports_back(tmp_path, capsys):
    """A synthetic TF1 checkpoint with Magenta's trio names (§A5, core_decoder_<k>): import,
    sample, export; the export holds every original variable."""
    arrays = random_arrays(magenta_shapes(692, [16], 8, [12, 10], SPLITS, conductor_units=[14]))
    prefix = write_tf1_checkpoint(tmp_path / "magenta" / "model.ckpt-3", arrays)
    imported = tmp_path / "imported"
    assert main(["import-magenta", "--config", "hierdec-trio_16bar", "--checkpoint", str(prefix),
                 "--set", "data.num_bars=4", "--out", str(imported)]) == 0
    out = capsys.readouterr().out
    assert "model.conductor_units: [1024, 1024] -> [14]" in out
    assert f"imported {len(arrays)} variables" in out
    assert main(["sample", "--model", str(imported), "--num-outputs", "1", "--seed", "0",
                 "--temperature", "1.0", "--no-wav", "--out", str(tmp_path / "samples")]) == 0
    assert len(_tracks(tmp_path / "samples" / "sample_00.mid")) == 3
    assert main(["export-magenta", "--model", str(imported), "--out",
                 str(tmp_path / "exported")]) == 0
    assert_same_arrays(read_tf1_checkpoint(tmp_path / "exported" / "model.ckpt"), arrays)


def test_trio_checkpoint_with_a_missing_core_is_one_line(tmp_path, capsys):
    shapes = magenta_shapes(692, [16], 8, [12], SPLITS, conductor_units=[14])
    arrays = {name: value for name, value in random_arrays(shapes).items()
              if not name.startswith("core_decoder/core_decoder_2/")}
    prefix = write_tf1_checkpoint(tmp_path / "model.ckpt-1", arrays)
    assert main(["import-magenta", "--config", "hierdec-trio_16bar", "--checkpoint", str(prefix),
                 "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "predicts 90 + 90 token classes but config hierdec-trio_16bar has 90 + 90 + 512" in err
