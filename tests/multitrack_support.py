"""Shared by the drum and trio model tests: Magenta variable tables computed from SPEC_MODELS §A5,
MIDI pieces written with pretty_midi, reading written MIDI back, and a CLI-trained tiny run."""

from __future__ import annotations

from pathlib import Path

import mido
import numpy as np
import pretty_midi
import yaml

from musicvae_tf.cli import main

ENC = "encoder/cell_{}/bidirectional_rnn/{}/multi_rnn_cell/cell_0/lstm_cell/{}"


def _cells(prefix: str, input_width: int, units, extra: int = 0) -> dict:
    """LSTMBlockCell variables of a stack: kernel [input + u, 4u] (layer 0 reads ``input_width``
    plus ``extra`` conditioning features), bias [4u]."""
    shapes = {}
    for index, size in enumerate(units):
        rows = (input_width + extra if index == 0 else units[index - 1]) + size
        shapes[f"{prefix}/cell_{index}/lstm_cell/kernel"] = (rows, 4 * size)
        shapes[f"{prefix}/cell_{index}/lstm_cell/bias"] = (4 * size,)
    return shapes


def _dense(name: str, inputs: int, outputs: int) -> dict:
    return {f"{name}/kernel": (inputs, outputs), f"{name}/bias": (outputs,)}


def magenta_shapes(input_depth: int, encoder_units, latent_dim: int, decoder_units, splits,
                   conductor_units=()) -> dict:
    """Every variable of a Magenta MusicVAE with a flat BiLSTM encoder (§A5 names and shapes): a
    flat decoder (one projection over all splits) without ``conductor_units``, else a conductor
    and one core per split (``core_decoder/core_decoder_<k>`` when there are several)."""
    shapes, width = {}, input_depth
    for index, units in enumerate(encoder_units):
        for direction in ("fw", "bw"):
            shapes[ENC.format(index, direction, "kernel")] = (width + units, 4 * units)
            shapes[ENC.format(index, direction, "bias")] = (4 * units,)
        width = 2 * units
    shapes |= _dense("encoder/mu", width, latent_dim) | _dense("encoder/sigma", width, latent_dim)
    if not conductor_units:
        return (shapes | _dense("decoder/z_to_initial_state", latent_dim, 2 * sum(decoder_units))
                | _cells("decoder/multi_rnn_cell", sum(splits), decoder_units, latent_dim)
                | _dense("decoder/output_projection", decoder_units[-1], sum(splits)))
    level = "decoder/hierarchical_level_0"
    shapes |= _dense(f"{level}/initial_state", latent_dim, 2 * sum(conductor_units))
    shapes |= _cells(level, 1, conductor_units)
    embedding = conductor_units[-1]
    for k, size in enumerate(splits):
        core = (f"core_decoder/core_decoder_{k}/decoder" if len(splits) > 1
                else "core_decoder/decoder")
        shapes |= _dense(f"{core}/z_to_initial_state", embedding, 2 * sum(decoder_units))
        shapes |= _cells(f"{core}/multi_rnn_cell", size, decoder_units, embedding)
        shapes |= _dense(f"{core}/output_projection", decoder_units[-1], size)
    return shapes


class ShapeOnlyCheckpoint:
    """A checkpoint reader that knows variable shapes but holds no values."""

    format = "tf1"
    js_config = None

    def __init__(self, shapes: dict):
        self.shapes = dict(shapes)


# Adding then removing the run-time forget bias of 1.0 rounds a bias to the float32 grid near 1.0.
FORGET_BIAS_ROUNDING = 2.0**-24


def random_arrays(shapes: dict, seed: int = 0) -> dict:
    """Random float32 values N(0, 0.3^2) for a shape table."""
    rng = np.random.default_rng(seed)
    return {name: rng.normal(0.0, 0.3, shape).astype(np.float32)
            for name, shape in sorted(shapes.items())}


def assert_same_arrays(written: dict, original: dict) -> None:
    """The same names and values, LSTM biases up to the forget-bias rounding."""
    assert sorted(written) == sorted(original)
    for name, value in original.items():
        tolerance = FORGET_BIAS_ROUNDING if name.endswith("lstm_cell/bias") else 0.0
        np.testing.assert_allclose(written[name], value, rtol=0, atol=tolerance, err_msg=name)


def read_tf1_checkpoint(prefix) -> dict:
    """Every variable of a TF1 checkpoint but ``global_step`` (which must be 0)."""
    import tensorflow as tf

    reader = tf.train.load_checkpoint(str(prefix))
    arrays = {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()}
    assert arrays.pop("global_step") == 0
    return arrays


def drum_instrument(bars: int, rng: np.random.Generator) -> pretty_midi.Instrument:
    """A drum track of ``bars`` 4/4 bars at 120 qpm: kick, snare, closed hat on a 16th grid with
    random variations (pitches of several classes, some outside every class)."""
    drums = pretty_midi.Instrument(program=0, is_drum=True)
    chances = {36: (0.7, 0.1), 38: (0.6, 0.05), 42: (0.8, 0.3), 46: (0.0, 0.05), 49: (0.0, 0.03),
               45: (0.0, 0.05), 35: (0.0, 0.05), 99: (0.0, 0.05)}
    for step in range(bars * 16):
        start = step * 0.125
        strong = {36: step % 4 == 0, 38: step % 8 == 4, 42: step % 2 == 0}
        for pitch, (on_beat, off_beat) in chances.items():
            if rng.random() < (on_beat if strong.get(pitch) else off_beat):
                drums.notes.append(pretty_midi.Note(90, pitch, start, start + 0.1))
    return drums


def write_drum_pieces(folder: Path, count: int, bars: int = 6) -> list[Path]:
    """``count`` drum MIDI files (one drum track each)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        midi = pretty_midi.PrettyMIDI(initial_tempo=120.0)
        midi.instruments.append(drum_instrument(bars, np.random.default_rng(index)))
        paths.append(folder / f"drums_{index:02d}.mid")
        midi.write(str(paths[-1]))
    return paths


def write_trio_pieces(folder: Path, count: int, bars: int) -> list[Path]:
    """``count`` 3-track MIDI files: a melody (program 0, eighth notes), a bass (program 33,
    half notes) and drums, all sounding in every bar."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        rng = np.random.default_rng(100 + index)
        midi = pretty_midi.PrettyMIDI(initial_tempo=120.0)
        melody, bass = pretty_midi.Instrument(program=0), pretty_midi.Instrument(program=33)
        for beat in np.arange(0, 4 * bars, 0.5):
            melody.notes.append(pretty_midi.Note(90, int(rng.integers(60, 80)), beat / 2,
                                                 beat / 2 + 0.2))
        for beat in range(0, 4 * bars, 2):
            bass.notes.append(pretty_midi.Note(90, int(rng.integers(36, 48)), beat / 2,
                                               beat / 2 + 0.9))
        midi.instruments += [melody, bass, drum_instrument(bars, rng)]
        paths.append(folder / f"trio_{index:02d}.mid")
        midi.write(str(paths[-1]))
    return paths


def note_channels(path: Path) -> set[int]:
    """The MIDI channels (0-based) of every note-on in a MIDI file."""
    return {message.channel for track in mido.MidiFile(str(path)).tracks for message in track
            if message.type == "note_on"}


def tiny_run(root: Path, config: str, overrides: list[str], pieces: Path, steps: int = 3) -> Path:
    """Prepare ``pieces`` and train ``steps`` steps from the CLI with ``config`` shrunk by
    ``overrides``; returns the run dir (the settings YAML and data dir lie beside it)."""
    from musicvae_tf.config import load_config

    settings = root / "tiny.yaml"
    settings.write_text(yaml.safe_dump(load_config(config, overrides).to_dict(), sort_keys=False))
    assert main(["prepare", "--config", str(settings), "--input", str(pieces),
                 "--out", str(root / "data"), "--workers", "1", "--quiet"]) == 0
    assert main(["train", "--config", str(settings), "--data", str(root / "data"),
                 "--run-dir", str(root / "run"), "--steps", str(steps), "--no-progress",
                 "--strategy", "cpu"]) == 0
    return root / "run"
