"""import-magenta / export-magenta for the chord-conditioned melody model (cat-mel_2bar_med_chords).

A tiny synthetic TF1 checkpoint with Magenta's names and layout (SPEC_MODELS §A3, §A5): the
encoder reads [melody one-hot, chord one-hot] per step, the decoder's first cell
[previous token, z, chord of the target step, h]. A NumPy re-implementation of Magenta's
LSTMBlockCell forward pass checks that the imported model computes what Magenta would (so the
chord rows sit where Magenta puts them); exporting gives the checkpoint back.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from magenta_support import write_tf1_checkpoint
from musicvae_tf.cli import main

CLASSES, CHORDS, ENC, Z, DEC, STEPS = 10, 49, 6, 4, (5, 3), 8
SETTINGS = ["data.steps_per_quarter=1", "data.steps_per_bar=4", "data.min_pitch=60",
            "data.max_pitch=67"]
RNN = "multi_rnn_cell/cell_0/lstm_cell"
FORGET_BIAS_ROUNDING = 2.0**-24


def synthetic_checkpoint(seed: int = 0) -> dict[str, np.ndarray]:
    """Random Magenta-named variables of a tiny chord model."""
    rng = np.random.default_rng(seed)

    def lstm(inputs, units):
        return (rng.normal(0, 0.4, (inputs + units, 4 * units)).astype(np.float32),
                rng.normal(0, 0.4, 4 * units).astype(np.float32))

    arrays = {}
    for direction in ("fw", "bw"):
        prefix = f"encoder/cell_0/bidirectional_rnn/{direction}/{RNN}"
        arrays[f"{prefix}/kernel"], arrays[f"{prefix}/bias"] = lstm(CLASSES + CHORDS, ENC)
    for name, (rows, cols) in {"encoder/mu": (2 * ENC, Z), "encoder/sigma": (2 * ENC, Z),
                               "decoder/z_to_initial_state": (Z, 2 * sum(DEC)),
                               "decoder/output_projection": (DEC[-1], CLASSES)}.items():
        arrays[f"{name}/kernel"] = rng.normal(0, 0.4, (rows, cols)).astype(np.float32)
        arrays[f"{name}/bias"] = rng.normal(0, 0.4, cols).astype(np.float32)
    inputs = CLASSES + Z + CHORDS
    for index, units in enumerate(DEC):
        prefix = f"decoder/multi_rnn_cell/cell_{index}/lstm_cell"
        arrays[f"{prefix}/kernel"], arrays[f"{prefix}/bias"] = lstm(inputs, units)
        inputs = units
    return arrays


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _block_cell(x, c, h, kernel, bias):
    """Magenta's LSTMBlockCell: gates i, j, f, o of [x, h] @ kernel + bias, forget bias 1."""
    i, j, f, o = np.split(np.concatenate([x, h], -1) @ kernel + bias, 4, -1)
    c = _sigmoid(f + 1.0) * c + _sigmoid(i) * np.tanh(j)
    return c, _sigmoid(o) * np.tanh(c)


def magenta_forward(arrays, melody, chords, z):
    """Magenta's posterior (mu, sigma) and teacher-forced logits, in NumPy."""
    inputs = np.concatenate([np.eye(CLASSES)[melody], np.eye(CHORDS)[chords]], -1)
    finals = []
    for direction, order in (("fw", range(STEPS)), ("bw", reversed(range(STEPS)))):
        prefix = f"encoder/cell_0/bidirectional_rnn/{direction}/{RNN}"
        c = h = np.zeros((len(melody), ENC))
        for t in order:
            c, h = _block_cell(inputs[:, t], c, h, arrays[f"{prefix}/kernel"],
                               arrays[f"{prefix}/bias"])
        finals.append(h)
    top = np.concatenate(finals, -1)
    mu = top @ arrays["encoder/mu/kernel"] + arrays["encoder/mu/bias"]
    sigma = np.log1p(np.exp(top @ arrays["encoder/sigma/kernel"] + arrays["encoder/sigma/bias"]))
    state = np.tanh(z @ arrays["decoder/z_to_initial_state/kernel"]
                    + arrays["decoder/z_to_initial_state/bias"])
    states = np.split(state, np.cumsum([u for u in DEC for _ in "ch"])[:-1], -1)
    states = [(states[2 * i], states[2 * i + 1]) for i in range(len(DEC))]  # (c, h) per layer
    previous = np.zeros((len(melody), CLASSES))
    logits = []
    for t in range(STEPS):
        x = np.concatenate([previous, z, np.eye(CHORDS)[chords[:, t]]], -1)
        for index in range(len(DEC)):
            prefix = f"decoder/multi_rnn_cell/cell_{index}/lstm_cell"
            states[index] = _block_cell(x, *states[index], arrays[f"{prefix}/kernel"],
                                        arrays[f"{prefix}/bias"])
            x = states[index][1]
        logits.append(x @ arrays["decoder/output_projection/kernel"]
                      + arrays["decoder/output_projection/bias"])
        previous = np.eye(CLASSES)[melody[:, t]]
    return mu, sigma, np.stack(logits, 1)


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    root = tmp_path_factory.mktemp("chords_magenta")
    arrays = synthetic_checkpoint()
    write_tf1_checkpoint(root / "magenta" / "model.ckpt", arrays)
    assert main(["import-magenta", "--config", "cat-mel_2bar_med_chords", "--checkpoint",
                 str(root / "magenta" / "model.ckpt"), "--out", str(root / "model"),
                 *sum((["--set", s] for s in SETTINGS), [])]) == 0
    return root, arrays


def test_imported_chord_model_computes_what_magenta_does(imported, capsys):
    import tensorflow as tf

    from musicvae_tf.trained_model import TrainedModel

    root, arrays = imported
    capsys.readouterr()
    model = TrainedModel.load(root / "model")
    assert model.has_controls and model.config.model.encoder_units == (ENC,)
    rng = np.random.default_rng(1)
    melody = rng.integers(0, CLASSES, (3, STEPS))
    chords = rng.integers(0, CHORDS, (3, STEPS))
    windows = np.stack([melody, chords], -1)
    z = rng.normal(size=(3, Z)).astype(np.float32)
    mu, sigma, logits = magenta_forward(arrays, melody, chords, z)
    _, our_mu, our_sigma = model.encode_tokens(windows)
    targets, _, controls = model.encoding.decoder_inputs(tf.constant(windows))
    our_logits = model.model.decode_logits(z, targets, controls=controls)
    np.testing.assert_allclose(our_mu, mu, atol=2e-5)
    np.testing.assert_allclose(our_sigma, sigma, atol=2e-5)
    np.testing.assert_allclose(np.asarray(our_logits), logits, atol=2e-5)
    # Sampling: step 0 reads the zero start token with chord 0, step t the chord of step t.
    sampled_logits, tokens = model.model.sample(z, 0.0, 0, controls)
    _, _, greedy = magenta_forward(arrays, np.asarray(tokens), chords, z)
    np.testing.assert_allclose(np.asarray(sampled_logits), greedy, atol=2e-5)


def test_export_gives_every_variable_back_and_imports_again(imported, tmp_path, capsys):
    import tensorflow as tf

    from musicvae_tf.trained_model import TrainedModel

    root, arrays = imported
    assert main(["export-magenta", "--model", str(root / "model"), "--out",
                 str(tmp_path / "exported")]) == 0
    reader = tf.train.load_checkpoint(str(tmp_path / "exported" / "model.ckpt"))
    written = {n: reader.get_tensor(n) for n in reader.get_variable_to_shape_map()}
    assert written.pop("global_step") == 0
    assert sorted(written) == sorted(arrays)
    for name, value in arrays.items():
        tolerance = FORGET_BIAS_ROUNDING if name.endswith("lstm_cell/bias") else 0.0
        assert written[name].shape == value.shape, name
        assert np.max(np.abs(written[name] - value)) <= tolerance, name
    assert main(["import-magenta", "--config", "cat-mel_2bar_med_chords", "--checkpoint",
                 str(tmp_path / "exported"), "--out", str(tmp_path / "again"),
                 *sum((["--set", s] for s in SETTINGS), [])]) == 0
    capsys.readouterr()
    first, again = TrainedModel.load(root / "model"), TrainedModel.load(tmp_path / "again")
    for before, after in zip(first.model.weights, again.model.weights):
        np.testing.assert_array_equal(np.asarray(after), np.asarray(before), err_msg=before.path)


def test_a_chord_checkpoint_under_a_melody_config_is_a_clear_error(imported, tmp_path, capsys):
    root, _ = imported
    code = main(["import-magenta", "--config", "cat-mel_2bar_small", "--checkpoint",
                 str(root / "magenta" / "model.ckpt"), "--out", str(tmp_path / "x"),
                 *sum((["--set", s] for s in SETTINGS), [])])
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1
    assert "49 more than config cat-mel_2bar_small's" in err and "melody_chords" in err, err


@pytest.mark.parametrize("config_name, chord_encoder, words", [
    ("cat-mel_2bar_med_chords", "TriadChordEncoder", None),
    ("cat-mel_2bar_med_chords", None, None),
    ("cat-mel_2bar_med_chords", "PitchChordEncoder", "chordEncoder PitchChordEncoder but config "
     "cat-mel_2bar_med_chords (data.encoding melody_chords) needs TriadChordEncoder"),
    ("cat-mel_2bar_small", "TriadChordEncoder", "needs none"),
])
def test_a_magentajs_chord_encoder_must_be_the_triads(config_name, chord_encoder, words):
    import types

    from data_pipelines.errors import MusicVAEError
    from musicvae_tf.config import load_config
    from musicvae_tf.models.music_vae.magenta_import import resolve_config

    js = {"type": "MusicVAE", "dataConverter": {"type": "MelodyConverter", "args": {
        "numSteps": STEPS, "minPitch": 60, "maxPitch": 67}}}
    if chord_encoder:
        js["chordEncoder"] = chord_encoder
    reader = types.SimpleNamespace(js_config=js, shapes={
        name: value.shape for name, value in synthetic_checkpoint().items()})
    config = load_config(config_name, SETTINGS)
    if words is None:
        assert resolve_config(reader, config)[0].model.encoder_units == (ENC,)
    else:
        with pytest.raises(MusicVAEError, match=re.escape(words)):
            resolve_config(reader, config)
