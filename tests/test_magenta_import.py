"""Magenta checkpoints (TF1 and magenta-js) imported as Keras models reproduce Magenta's own outputs."""

import json
import shutil
import tarfile

import numpy as np
import pytest

from magenta_support import (FIXTURE_CONFIGS, FIXTURES, JS, TF1, checkpoint_arrays, imported,
                             max_differences, outputs, reference, write_tf1_checkpoint)
from musicvae_tf.cli import main

TOLERANCE = 1e-4  # absolute, on mu, sigma and logits (issue 10)
CASES = [(fixture, location) for fixture in FIXTURE_CONFIGS for location in (TF1, JS)]


@pytest.mark.parametrize("fixture,location", CASES)
def test_outputs_match_magenta(fixture, location):
    ref = reference(fixture)
    ours = outputs(imported(fixture, location).model, ref)
    differences = max_differences(ours, ref)
    assert max(differences.values()) < TOLERANCE, differences
    np.testing.assert_array_equal(ours["greedy_tokens"], ref["greedy_tokens"])


@pytest.mark.parametrize("fixture", FIXTURE_CONFIGS)
def test_tf1_and_magentajs_give_identical_weights(fixture):
    tf1, js = imported(fixture, TF1).model, imported(fixture, JS).model
    for a, b in zip(tf1.weights, js.weights):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=a.path)


def test_sizes_come_from_the_checkpoint_and_differences_are_reported():
    result = imported("hierdec_mel_16bar_tiny", TF1)
    model = result.config.model
    assert (model.encoder_units, model.latent_dim, model.conductor_units, model.decoder_units) == (
        (16, 16), 8, (16, 16), (16, 16))
    assert "model.latent_dim: 512 -> 8" in result.differences
    assert result.provenance["global_step"] == 2 and result.provenance["variables"] == 26
    assert result.provenance["parameters"] == 36938  # the fixture's documented model size


def test_uint8_quantised_magentajs_weights_dequantise_within_half_a_step():
    from musicvae_tf.models.music_vae.magenta_checkpoint import open_checkpoint

    folder = FIXTURES / "mel_2bar_tiny" / "magentajs_uint8"
    manifest = json.loads((folder / "weights_manifest.json").read_text())
    scales = {w["name"]: w["quantization"]["scale"] for w in manifest[0]["weights"]}
    exact = checkpoint_arrays("mel_2bar_tiny")
    with open_checkpoint(folder) as reader:
        assert reader.quantization == ["uint8"]
        for name, value in exact.items():
            assert np.max(np.abs(reader.tensor(name) - value)) <= scales[name] / 2 + 1e-7, name
    ref = reference("mel_2bar_tiny")
    ours = outputs(imported("mel_2bar_tiny", "magentajs_uint8").model, ref)
    assert max(max_differences(ours, ref).values()) < 1e-2  # measured 3.9e-3 (weights off by <=1.4e-3)
    np.testing.assert_array_equal(ours["greedy_tokens"], ref["greedy_tokens"])


def test_uint16_quantised_weights_in_two_shards(tmp_path):
    """A 2-byte quantised copy (as magenta-js's _q2 checkpoints) split over two shard files."""
    folder = FIXTURES / "flat_mel_16bar_tiny" / JS
    manifest = json.loads((folder / "weights_manifest.json").read_text())
    exact = checkpoint_arrays("flat_mel_16bar_tiny")
    data = b""
    for weight in manifest[0]["weights"]:
        value = exact[weight["name"]].astype(np.float64)
        low, high = min(value.min(), 0.0), max(value.max(), 0.0)
        scale = (high - low) / 65535
        codes = np.round((value - low) / scale).astype("<u2")
        weight["quantization"] = {"dtype": "uint16", "min": low, "scale": scale,
                                  "original_dtype": "float32"}
        data += codes.tobytes()
    half = len(data) // 2
    (tmp_path / "group1-shard1of2.bin").write_bytes(data[:half])
    (tmp_path / "group1-shard2of2.bin").write_bytes(data[half:])
    manifest[0]["paths"] = ["group1-shard1of2.bin", "group1-shard2of2.bin"]
    (tmp_path / "weights_manifest.json").write_text(json.dumps(manifest))
    ref = reference("flat_mel_16bar_tiny")
    ours = outputs(imported("flat_mel_16bar_tiny", str(tmp_path)).model, ref)
    assert max(max_differences(ours, ref).values()) < TOLERANCE
    np.testing.assert_array_equal(ours["greedy_tokens"], ref["greedy_tokens"])


def test_cli_imports_a_tar_into_a_model_dir_every_command_takes(tmp_path, capsys):
    from musicvae_tf.trained_model import TrainedModel

    archive = tmp_path / "cat-mel_2bar_tiny.tar"
    with tarfile.open(archive, "w") as tar:
        for path in (FIXTURES / "mel_2bar_tiny" / TF1).glob("model.ckpt-2.*"):
            tar.add(path, arcname=f"cat-mel_2bar_tiny/{path.name}")
    out = tmp_path / "model"
    assert main(["import-magenta", "--config", "cat-mel_2bar_small", "--checkpoint", str(archive),
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "model.encoder_units: [512] -> [16]" in printed and "imported 16 variables" in printed
    assert sorted(p.name for p in out.iterdir()) == ["config.yaml", "model.keras", "provenance.json"]
    provenance = json.loads((out / "provenance.json").read_text())
    assert provenance["source"] == str(archive.resolve()) and provenance["format"] == "tf1"
    ref = reference("mel_2bar_tiny")
    model = TrainedModel.load(out)
    _, mu, sigma = model.encode_tokens(ref["tokens"])
    assert np.max(np.abs(mu - ref["mu"])) < TOLERANCE and np.max(np.abs(sigma - ref["sigma"])) < TOLERANCE
    np.testing.assert_array_equal(model.decode_tokens(ref["mu"], temperature=0.0), ref["greedy_tokens"])


@pytest.mark.parametrize("location", ["model.ckpt-2", "model.ckpt-2.index", "."])
def test_every_tf1_location_form_is_accepted(location, tmp_path):
    from musicvae_tf.models.music_vae.magenta_checkpoint import open_checkpoint

    # A trainer's state file names an absolute path that no longer exists after a move.
    folder = tmp_path / "moved"
    shutil.copytree(FIXTURES / "mel_2bar_tiny" / TF1, folder)
    (folder / "checkpoint").write_text('model_checkpoint_path: "/gone/run/train/model.ckpt-2"\n')
    with open_checkpoint(folder / location) as reader:
        assert reader.format == "tf1" and len(reader.shapes) == 16  # Adam slots etc. left out


def one_line_error(argv, capsys):
    """Run the CLI expecting failure; return its single stderr line."""
    assert main(argv) != 0
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def import_argv(config, checkpoint, out, *extra):
    return ["import-magenta", "--config", config, "--checkpoint", str(checkpoint), "--out", str(out), *extra]


def test_missing_variable_is_named(tmp_path, capsys):
    arrays = checkpoint_arrays("mel_2bar_tiny")
    del arrays["decoder/multi_rnn_cell/cell_1/lstm_cell/kernel"]
    prefix = write_tf1_checkpoint(tmp_path / "ckpt" / "model.ckpt-1", arrays)
    line = one_line_error(import_argv("cat-mel_2bar_small", prefix, tmp_path / "out"), capsys)
    assert "no variable decoder/multi_rnn_cell/cell_1/lstm_cell/kernel" in line
    assert not (tmp_path / "out").exists()


def test_misshaped_variable_is_named(tmp_path, capsys):
    arrays = checkpoint_arrays("mel_2bar_tiny")
    arrays["encoder/mu/kernel"] = arrays["encoder/mu/kernel"][:31]
    prefix = write_tf1_checkpoint(tmp_path / "model.ckpt-1", arrays)
    line = one_line_error(import_argv("cat-mel_2bar_small", prefix, tmp_path / "out"), capsys)
    assert "encoder/mu/kernel has shape [31, 8] but config cat-mel_2bar_small needs [32, 8]" in line


def test_wrong_decoder_family_names_the_first_missing_variable(capsys, tmp_path):
    line = one_line_error(import_argv("flat-mel_16bar", FIXTURES / "hierdec_mel_16bar_tiny" / TF1,
                                      tmp_path / "out"), capsys)
    assert "no variable decoder/multi_rnn_cell/cell_0/lstm_cell/bias, which config flat-mel_16bar needs" in line


def test_other_token_vocabulary_is_refused(capsys, tmp_path):
    line = one_line_error(import_argv("cat-mel_2bar_small", FIXTURES / "mel_2bar_tiny" / TF1,
                                      tmp_path / "out", "--set", "data.max_pitch=100"), capsys)
    assert "predicts 90 token classes but config cat-mel_2bar_small has 82" in line


def test_unknown_extra_variable_is_named(tmp_path, capsys):
    arrays = checkpoint_arrays("mel_2bar_tiny")
    arrays["decoder/nade/w_enc"] = np.zeros([3, 3], np.float32)
    prefix = write_tf1_checkpoint(tmp_path / "model.ckpt-1", arrays)
    line = one_line_error(import_argv("cat-mel_2bar_small", prefix, tmp_path / "out"), capsys)
    assert "decoder/nade/w_enc has no place" in line


def test_trio_checkpoint_into_a_melody_config_names_the_classes(tmp_path, capsys):
    """Trio checkpoints (core_decoder/core_decoder_<k>) import with a trio config
    (tests/test_trio_model.py); a melody config refuses them in one line."""
    from multitrack_support import magenta_shapes, random_arrays

    shapes = magenta_shapes(692, [16], 8, [12], [90, 90, 512], conductor_units=[10])
    prefix = write_tf1_checkpoint(tmp_path / "model.ckpt-1", random_arrays(shapes))
    line = one_line_error(import_argv("hierdec-mel_16bar", prefix, tmp_path / "out"), capsys)
    assert "predicts 90 + 90 + 512 token classes but config hierdec-mel_16bar has 90" in line


def test_magentajs_config_must_describe_the_same_melodies(tmp_path, capsys):
    line = one_line_error(import_argv("cat-mel_2bar_small", FIXTURES / "flat_mel_16bar_tiny" / JS,
                                      tmp_path / "out"), capsys)
    assert "numSteps 256 but config cat-mel_2bar_small needs 32" in line


def test_truncated_shard_is_reported(tmp_path, capsys):
    folder = tmp_path / "js"
    shutil.copytree(FIXTURES / "mel_2bar_tiny" / JS, folder)
    shard = folder / "group1-shard1of1.bin"
    shard.write_bytes(shard.read_bytes()[:-4])
    line = one_line_error(import_argv("cat-mel_2bar_small", folder, tmp_path / "out"), capsys)
    assert "hold 103204 bytes but their weights need 103208" in line


@pytest.mark.parametrize("make,expected", [
    (lambda tmp: tmp / "absent", "checkpoint not found"),
    (lambda tmp: tmp, "holds no checkpoint"),
    (lambda tmp: (tmp / "notes.txt", (tmp / "notes.txt").write_text("x"))[0], "is not a checkpoint"),
])
def test_bad_locations_fail_in_one_line(make, expected, tmp_path, capsys):
    line = one_line_error(import_argv("cat-mel_2bar_small", make(tmp_path), tmp_path / "out"), capsys)
    assert expected in line


def test_existing_output_folder_is_not_overwritten(tmp_path, capsys):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    line = one_line_error(import_argv("cat-mel_2bar_small", FIXTURES / "mel_2bar_tiny" / TF1,
                                      tmp_path / "out"), capsys)
    assert "already exists" in line and (tmp_path / "out" / "keep.txt").read_text() == "mine"


def test_truncated_tf1_data_file_is_reported(tmp_path, capsys):
    folder = tmp_path / "ckpt"
    shutil.copytree(FIXTURES / "mel_2bar_tiny" / TF1, folder)
    data = folder / "model.ckpt-2.data-00000-of-00001"
    data.write_bytes(data.read_bytes()[:1000])
    line = one_line_error(import_argv("cat-mel_2bar_small", folder, tmp_path / "out"), capsys)
    assert "cannot read" in line and "model.ckpt-2" in line
