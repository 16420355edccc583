"""Latent RNN and inpainting model: masking, .keras round trip, filling exactly the gap, the CLI."""

import numpy as np
import pytest

from inpainting_support import tiny_inpaint_config, tiny_inpainting_model, write_run

from musicvae_tf.models.inpainting.gap import context_views
from musicvae_tf.models.inpainting.latent_rnn import LatentRNN


@pytest.fixture(scope="module")
def config():
    return tiny_inpaint_config(num_bars=16, max_gap=6)


@pytest.fixture(scope="module")
def model(config):
    return tiny_inpainting_model(config)


@pytest.fixture(scope="module")
def run_dir(model, config, tmp_path_factory):
    return write_run(model, config, tmp_path_factory.mktemp("inpaint_run"))


def _bars(config, batch=2, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, config.data.num_classes, (batch, 16, config.data.steps_per_bar)).astype(np.int32)


def test_latent_rnn_reads_only_the_context_and_the_real_gap_slots():
    rnn = LatentRNN(latent_dim=4, context_units=6, context_layers=2)
    latents = np.random.default_rng(1).standard_normal((2, 16, 4)).astype(np.float32)
    out = np.asarray(rnn(context_views(latents, 5, 3, 6)))
    assert out.shape == (2, 6, 4)
    changed = latents.copy()
    changed[:, 5:8] += 50.0  # the gap bars themselves
    np.testing.assert_allclose(np.asarray(rnn(context_views(changed, 5, 3, 6))), out, atol=1e-5)
    # More padding slots do not change the real ones.
    wider = np.asarray(rnn(context_views(latents, 5, 3, 9)))
    np.testing.assert_allclose(wider[:, :3], out[:, :3], atol=1e-5)
    # Both sides matter.
    before, after = latents.copy(), latents.copy()
    before[:, 0] += 1.0
    after[:, 15] += 1.0
    assert np.abs(np.asarray(rnn(context_views(before, 5, 3, 6)))[:, :3] - out[:, :3]).max() > 1e-4
    assert np.abs(np.asarray(rnn(context_views(after, 5, 3, 6)))[:, :3] - out[:, :3]).max() > 1e-4


def test_only_the_latent_rnn_trains(model):
    trainable = {id(v) for v in model.trainable_variables}
    assert trainable == {id(v) for v in model.latent_rnn.trainable_variables}
    assert not any(id(v) in trainable for v in model.measure_vae.weights)


def test_keras_round_trip_gives_identical_outputs(model, config, run_dir):
    import keras
    import tensorflow as tf

    loaded = keras.saving.load_model(run_dir / "model.keras")
    one_hot = tf.one_hot(_bars(config), config.data.num_classes)
    expected = model(one_hot, gap_start=4, gap_length=5)
    actual = loaded(one_hot, gap_start=4, gap_length=5)
    np.testing.assert_allclose(np.asarray(actual["logits"]), np.asarray(expected["logits"]), atol=1e-6)
    assert len(loaded.trainable_variables) == len(model.trainable_variables)
    assert not loaded.measure_vae.trainable


def test_training_pipeline_draws_one_split_per_batch(config):
    import tensorflow as tf

    from musicvae_tf.models.inpainting.inpaint_task import inpainting_dataset

    tokens = np.tile(np.arange(16 * 16, dtype=np.int32) % 90, (8, 1))
    windows = tf.data.Dataset.from_tensor_slices((tf.one_hot(tokens, 90), tokens)).batch(2)
    batches = list(inpainting_dataset(windows, config, seed=3))
    assert [b["bars"].shape for b in batches] == [(2, 16, 16, 90)] * 4
    splits = [tuple(b["split"].numpy()[0]) for b in batches]
    assert all((b["split"].numpy() == b["split"].numpy()[0]).all() for b in batches)
    assert all(2 <= gap <= 6 and start >= 1 and start + gap <= 15 for start, gap in splits)
    again = [tuple(b["split"].numpy()[0]) for b in inpainting_dataset(windows, config, seed=3)]
    assert splits == again


def test_inpaint_piece_fills_exactly_the_gap(run_dir):
    from musicvae_tf.models.inpainting.inpaint import inpaint_piece, load_inpainter
    from musicvae_tf.models.inpainting.piece import PieceMelody

    inpainter = load_inpainter(run_dir)
    rng = np.random.default_rng(2)
    tokens = rng.integers(0, 90, 22 * 16).astype(np.int32)
    piece = PieceMelody(tokens, 100.0, 16)
    outputs = inpaint_piece(inpainter, piece, gap_start=12, gap_length=3, num_outputs=3,
                            temperature=1.0, seed=5)
    assert outputs.shape == (3, 22 * 16)
    gap = slice(12 * 16, 15 * 16)
    outside = np.ones(22 * 16, bool)
    outside[gap] = False
    for output in outputs:
        np.testing.assert_array_equal(output[outside], tokens[outside])
    assert any((output[gap] != tokens[gap]).any() for output in outputs)
    again = inpaint_piece(inpainter, piece, 12, 3, num_outputs=3, temperature=1.0, seed=5)
    np.testing.assert_array_equal(again, outputs)


def _write_piece(path, tokens, config):
    from data_pipelines.tokens import write_midi

    write_midi(tokens, path, config.data)
    return path


def _melody(num_bars):
    """A simple melody: one quarter note per beat, pitches cycling."""
    tokens = np.zeros(num_bars * 16, np.int32)
    for beat in range(num_bars * 4):
        tokens[beat * 4] = 2 + 60 + (beat * 5) % 12 - 21
    return tokens


def test_cli_writes_completed_midi_and_png(run_dir, config, tmp_path):
    from musicvae_tf.cli import main
    from musicvae_tf.models.inpainting.piece import read_piece

    tokens = _melody(18)
    source = _write_piece(tmp_path / "piece.mid", tokens, config)
    out = tmp_path / "out"
    assert main(["inpaint", "--model", str(run_dir), "--input", str(source), "--bars", "9-12",
                 "--num-outputs", "2", "--temperature", "0.8", "--seed", "1", "--out", str(out)]) == 0
    for index in (1, 2):
        assert (out / f"inpainted_{index:02d}.png").stat().st_size > 0
        written = read_piece(out / f"inpainted_{index:02d}.mid", config.data).tokens
        # The rest of the piece is untouched; only bars 9-12 may differ.
        np.testing.assert_array_equal(written[:8 * 16], tokens[:8 * 16])
        np.testing.assert_array_equal(written[12 * 16:18 * 16], tokens[12 * 16:])


def test_cli_fills_an_empty_gap_in_the_input(run_dir, config, tmp_path, capsys):
    from musicvae_tf.cli import main

    tokens = _melody(14)
    tokens[5 * 16 - 1] = 1  # end the last note before bar 6
    tokens[5 * 16:8 * 16] = 0  # bars 6-8 are empty
    source = _write_piece(tmp_path / "gap.mid", tokens, config)
    assert main(["inpaint", "--model", str(run_dir), "--input", str(source), "--seed", "0",
                 "--out", str(tmp_path / "out")]) == 0
    assert "inpainted bars 6-8 of 14" in capsys.readouterr().out


def test_cli_errors_are_one_line(run_dir, config, tmp_path, capsys):
    import pretty_midi

    from musicvae_tf.cli import main

    source = _write_piece(tmp_path / "piece.mid", _melody(10), config)
    base = ["inpaint", "--model", str(run_dir), "--input", str(source), "--out", str(tmp_path / "o")]
    assert main(base + ["--bars", "9-12"]) == 2
    assert "out of range" in capsys.readouterr().err
    assert main(base + ["--bars", "1-2"]) == 2
    assert "no context before" in capsys.readouterr().err
    assert main(base + ["--bars", "9-10"]) == 2
    assert "no context after" in capsys.readouterr().err

    waltz = pretty_midi.PrettyMIDI()
    waltz.time_signature_changes.append(pretty_midi.TimeSignature(3, 4, 0.0))
    piano = pretty_midi.Instrument(0)
    piano.notes += [pretty_midi.Note(80, 60 + i % 5, i * 0.5, i * 0.5 + 0.4) for i in range(30)]
    waltz.instruments.append(piano)
    waltz.write(str(tmp_path / "waltz.mid"))
    assert main(["inpaint", "--model", str(run_dir), "--input", str(tmp_path / "waltz.mid"),
                 "--bars", "3-4", "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "wrong meter" in err and "3/4" in err and len(err.strip().splitlines()) == 1


def test_held_out_piece_skips_unusable_and_short_pieces(config, tmp_path):
    import json

    import pretty_midi

    from musicvae_tf.models.inpainting.piece import held_out_piece

    waltz = pretty_midi.PrettyMIDI()
    waltz.time_signature_changes.append(pretty_midi.TimeSignature(3, 4, 0.0))
    piano = pretty_midi.Instrument(0)
    piano.notes += [pretty_midi.Note(80, 60, i * 0.5, i * 0.5 + 0.4) for i in range(40)]
    waltz.instruments.append(piano)
    waltz.write(str(tmp_path / "waltz.mid"))
    short = _write_piece(tmp_path / "short.mid", _melody(6), config)
    long = _write_piece(tmp_path / "long.mid", _melody(12), config)
    (tmp_path / "pieces.json").write_text(json.dumps(
        {"train": [str(long)], "test": [str(tmp_path / "waltz.mid"), str(short), str(long)]}))
    piece_id, piece = held_out_piece(tmp_path, config.data, min_bars=10)
    assert piece_id == str(long) and piece.num_bars == 12
    np.testing.assert_array_equal(piece.tokens, _melody(12))
