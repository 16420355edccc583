"""The VQ-VAE through the command line: train both stages a few steps, evaluate, sample,
interpolate, inpaint, and evaluate-inpainting beside a latent RNN."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

from inpainting_support import tiny_inpaint_config, tiny_inpainting_model, write_run
from musicvae_tf.cli import main
from musicvae_tf.config import load_config
from training_support import write_prepared_data
from vq_support import TINY_VQ, bar_bank_windows

# The tiny sizes on the real melody grid (16 steps per bar, 90 classes), so MIDI files round-trip.
SIZES = [s for s in TINY_VQ if not s.startswith("data.")] + ["prior.num_steps=3"]


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("vq_cli")
    config = load_config("demo-vq_vae-mel_16bar", SIZES)
    data = root / "data"
    write_prepared_data(data, config, {"train": bar_bank_windows(config, 32),
                                       "eval": bar_bank_windows(config, 8, seed=1),
                                       "test": bar_bank_windows(config, 16, seed=2)})
    settings = root / "vq.yaml"
    settings.write_text(yaml.safe_dump(config.to_dict(), sort_keys=False))
    run = root / "run"
    assert main(["train", "--config", str(settings), "--data", str(data), "--run-dir", str(run),
                 "--steps", "4", "--no-progress"]) == 0
    return config, data, run, root


def _piece(path, config, num_bars=16):
    from data_pipelines.tokens import write_midi

    tokens = np.zeros(num_bars * 16, np.int32)
    for beat in range(num_bars * 4):
        tokens[beat * 4] = 2 + 60 + (beat * 5) % 12 - 21
    write_midi(tokens, path, config.data)
    return path, tokens


def test_train_writes_both_stages_and_logs_codebook_use(trained_run):
    _, _, run, _ = trained_run
    assert (run / "model.keras").is_file() and (run / "prior" / "model.keras").is_file()
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert {"code_perplexity", "code_usage", "commitment", "held_out_code_perplexity",
            "held_out_code_shuffle_gap"} <= set(rows[-1])
    prior_rows = (run / "prior" / "metrics.jsonl").read_text().splitlines()
    assert "code_accuracy" in json.loads(prior_rows[-1])


def test_evaluate_reports_reconstruction_codebook_use_and_inpainting(trained_run, capsys):
    _, data, run, _ = trained_run
    assert main(["evaluate", "--model", str(run), "--data", str(data), "--no-progress"]) == 0
    result = json.loads((run / "eval_test.json").read_text())
    assert result["num_sequences"] == 16
    assert 0 <= result["teacher_forced_accuracy"] <= 1 and result["codes_used"] >= 1
    assert len(result["code_perplexity_per_group"]) == 2
    inpainting = result["inpainting_6_4_6"]
    assert inpainting["vq_masked_prior"]["gap_tokens"] == 16 * 4 * 16
    assert "codes used" in capsys.readouterr().out


def test_sample_is_seeded_and_interpolate_says_where_it_interpolates(trained_run, capsys):
    config, _, run, root = trained_run
    for out in ("a", "b"):
        assert main(["sample", "--model", str(run), "--num-outputs", "2", "--seed", "4",
                     "--out", str(root / out), "--no-wav"]) == 0
    first = (root / "a" / "sample_00.mid").read_bytes()
    assert first == (root / "b" / "sample_00.mid").read_bytes()
    path, _ = _piece(root / "piece.mid", config)
    capsys.readouterr()
    assert main(["interpolate", "--model", str(run), "--input", str(path), str(path),
                 "--num-outputs", "3", "--out", str(root / "interp"), "--no-wav"]) == 0
    assert "pre-quantisation space" in capsys.readouterr().out


def test_inpaint_fills_only_the_gap(trained_run):
    from musicvae_tf.models.inpainting.piece import read_piece

    config, _, run, root = trained_run
    path, tokens = _piece(root / "gap.mid", config, num_bars=18)
    out = root / "inpainted"
    assert main(["inpaint", "--model", str(run), "--input", str(path), "--bars", "9-12",
                 "--seed", "1", "--out", str(out), "--no-wav"]) == 0
    written = read_piece(out / "inpainted_01.mid", config.data).tokens
    np.testing.assert_array_equal(written[:8 * 16], tokens[:8 * 16])
    np.testing.assert_array_equal(written[12 * 16:18 * 16], tokens[12 * 16:])


def test_evaluate_inpainting_scores_the_vq_prior_beside_the_latent_rnn(trained_run):
    _, data, run, root = trained_run
    config = tiny_inpaint_config(num_bars=16, max_gap=6)
    latent_rnn = write_run(tiny_inpainting_model(config), config, root / "latent_rnn")
    out = root / "inpaint_eval.json"
    assert main(["evaluate-inpainting", "--model", str(latent_rnn), "--vq", str(run),
                 "--data", str(data), "--protocols", "A", "--out", str(out),
                 "--no-progress"]) == 0
    methods = json.loads(out.read_text())["protocols"]["A"]["methods"]
    assert {"latent_rnn", "vq_masked_prior", "repeat_last_bar"} <= set(methods)
    assert methods["vq_masked_prior"]["gap_tokens"] == methods["latent_rnn"]["gap_tokens"]


def test_a_run_still_training_loads_from_its_checkpoint(trained_run, tmp_path):
    import shutil

    from musicvae_tf.models.loading import load_keras_file, load_run_model

    _, _, run, _ = trained_run
    copy = tmp_path / "running"
    copy.mkdir()
    shutil.copy(run / "config.yaml", copy / "config.yaml")
    shutil.copytree(run / "ckpt", copy / "ckpt")
    restored, _, source = load_run_model(copy)
    exported = load_keras_file(run / "model.keras")
    assert "ckpt" in source
    for mine, theirs in zip(restored.weights, exported.weights):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy(), err_msg=mine.path)
