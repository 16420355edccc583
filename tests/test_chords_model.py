"""The chord-conditioned melody model (Magenta's cat-mel_2bar_med_chords, SPEC_MODELS §A3): its
size, prepare from ABC chord symbols and from a MIDI chord track, training from the CLI,
``sample``/``interpolate --chords`` (a chord track in the MIDI, melodies that follow the chords),
the one-line errors, and the ``.keras`` round trip."""

from __future__ import annotations

import json

import keras
import numpy as np
import pretty_midi
import pytest

from data_pipelines.chord_inference import NO_CHORD, TRIAD_INTERVALS, chord_pitch_classes
from data_pipelines.encodings.chords import CHORD_PROGRAM
from midi_factory import make_midi, write
from musicvae_tf.cli import main

# Root (0..11) and quality (0 major, 1 minor) of the chords the synthetic pieces use.
CHORDS = {"C": (0, 0), "F": (5, 0), "G": (7, 0), "Am": (9, 1), "Dm": (2, 1), "Em": (4, 1)}
TINY = ["data.steps_per_quarter=1", "data.steps_per_bar=4", "data.min_pitch=60",
        "data.max_pitch=83", "data.transpose_range=[0,0]", "data.eval_fraction=0",
        "data.test_fraction=0", "model.encoder_units=[24]", "model.latent_dim=4",
        "model.decoder_units=[48]", "training.batch_size=32", "training.learning_rate=0.02",
        "training.min_learning_rate=0.002", "training.max_beta=0.001", "training.beta_rate=0",
        "training.checkpoint_every=1000", "training.summary_every=1000"]


def tiny_settings(path):
    """The demo chord config shrunk to a CPU-second size, as YAML for the CLI."""
    import yaml

    from musicvae_tf.config import load_config

    path.write_text(yaml.safe_dump(load_config("demo-mel_2bar_chords", TINY).to_dict()))
    return path


def arpeggio_piece(names, path):
    """A MIDI file: per bar the melody plays the bar's chord tones (root, third, fifth, root an
    octave up, quarter notes), over a block-chord track (program 48) holding the same chord."""
    melody, chords = [], []
    for bar, name in enumerate(names):
        root, quality = CHORDS[name]
        tones = [60 + root + i for i in TRIAD_INTERVALS[quality]] + [72 + root]
        melody += [(pitch, 4 * bar + beat, 4 * bar + beat + 1) for beat, pitch in enumerate(tones)]
        chords += [(48 + root + i, 4 * bar, 4 * bar + 4) for i in TRIAD_INTERVALS[quality]]
    return write(make_midi(melody, tracks=[(chords, CHORD_PROGRAM, False)]), path)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny chord model trained from the CLI on MIDI pieces whose melody arpeggiates the chords."""
    root = tmp_path_factory.mktemp("chords")
    rng = np.random.default_rng(0)
    for index in range(24):
        arpeggio_piece([list(CHORDS)[i] for i in rng.integers(0, len(CHORDS), 6)],
                       root / "midi" / f"piece_{index:02d}.mid")
    settings = tiny_settings(root / "tiny.yaml")
    assert main(["prepare", "--config", str(settings), "--input", str(root / "midi"),
                 "--out", str(root / "data"), "--workers", "1", "--quiet"]) == 0
    assert main(["train", "--config", str(settings), "--data", str(root / "data"),
                 "--run-dir", str(root / "run"), "--steps", "250"]) == 0
    return root


def _melody_and_chords(path):
    """The melody notes and the chord-track notes of a MIDI file, as (pitch, start_beat)."""
    midi = pretty_midi.PrettyMIDI(str(path))
    beat = 60.0 / midi.get_tempo_changes()[1][0]
    parts = {inst.program: sorted((n.pitch, round(n.start / beat)) for n in inst.notes)
             for inst in midi.instruments}
    return parts.get(0, []), parts.get(CHORD_PROGRAM, [])


def test_full_size_config_has_magentas_shapes_and_parameter_count():
    from musicvae_tf.config import load_config
    from musicvae_tf.models.music_vae.magenta_layout import check_checkpoint, magenta_layout
    from musicvae_tf.models.music_vae.model import build_model

    rnn = "multi_rnn_cell/cell_0/lstm_cell"
    shapes = {f"encoder/cell_0/bidirectional_rnn/{d}/{rnn}/{v}": s for d in ("fw", "bw")
              for v, s in (("kernel", (90 + 49 + 1024, 4096)), ("bias", (4096,)))}
    shapes |= {f"encoder/{n}/{v}": s for n in ("mu", "sigma")
               for v, s in (("kernel", (2048, 256)), ("bias", (256,)))}
    shapes |= {"decoder/z_to_initial_state/kernel": (256, 3072),
               "decoder/z_to_initial_state/bias": (3072,),
               "decoder/output_projection/kernel": (512, 90),
               "decoder/output_projection/bias": (90,)}
    for index, rows in enumerate((90 + 256 + 49 + 512, 1024, 1024)):
        shapes[f"decoder/multi_rnn_cell/cell_{index}/lstm_cell/kernel"] = (rows, 2048)
        shapes[f"decoder/multi_rnn_cell/cell_{index}/lstm_cell/bias"] = (2048,)
    parameters = sum(int(np.prod(s)) for s in shapes.values())
    assert parameters == 17_478_234  # "about 17.5 M"
    config = load_config("cat-mel_2bar_med_chords")
    assert (config.data.programs, config.data.transpose_range) == (None, (-3, 3))
    assert (config.training.max_beta, config.training.free_bits) == (1.0, 0)
    with keras.StatelessScope(initialize_variables=False):
        model = build_model(config)
    assert model.count_params() == parameters
    layout = magenta_layout(model)
    check_checkpoint(layout, shapes, config.name)
    assert sorted(v.name for v in layout) == sorted(shapes)


def test_prepare_reads_abc_chord_symbols(tmp_path):
    tunes = []
    for number, (a, b) in enumerate([("G", "D"), ("C", "Am"), ("F", "C")], start=1):
        tunes.append(f'X:{number}\nT:Tune {number}\nM:4/4\nL:1/4\nK:C\n'
                     f'"{a}"cdec|"{b}"BAGA|"{a}"cdec|"{b}"BAGA|"{a}"cdec|"{b}"G4|\n')
    book = tmp_path / "book.abc"
    book.write_text("\n".join(tunes))
    settings = tiny_settings(tmp_path / "tiny.yaml")
    assert main(["prepare", "--config", str(settings), "--input", str(book),
                 "--out", str(tmp_path / "data"), "--workers", "1", "--quiet"]) == 0
    from data_pipelines.reader import make_dataset
    from musicvae_tf.config import load_config

    config = load_config(str(settings))
    windows = np.concatenate([np.asarray(tokens) for _, tokens in make_dataset(
        str(tmp_path / "data"), "train", config.data, 64, training=False)])
    assert windows.shape[1:] == (8, 2)
    bar_chords = {tuple(w[::4, 1]) for w in windows}
    g, d, c, am, f = 8, 3, 1, 22, 6
    assert {(g, d), (d, g), (c, am), (am, c), (f, c), (c, f)} <= bar_chords


def test_prepare_reads_a_midi_chord_track(trained):
    summary = json.loads((trained / "data" / "data_config.json").read_text())
    assert summary["encoding"] == "melody_chords"
    from data_pipelines.reader import make_dataset
    from musicvae_tf.config import load_config

    config = load_config(str(trained / "tiny.yaml"))
    _, tokens = next(iter(make_dataset(str(trained / "data"), "train", config.data, 64,
                                       training=False)))
    tokens = np.asarray(tokens)
    assert (tokens[..., 1] != NO_CHORD).all()
    for window in tokens:  # each bar's melody notes lie in the bar's chord
        for bar in range(2):
            notes = window[4 * bar:4 * bar + 4, 0]
            chord = set(chord_pitch_classes(window[4 * bar, 1]))
            assert {(int(t) - 2 + 60) % 12 for t in notes if t >= 2} <= chord


def test_sample_with_chords_writes_a_chord_track_and_follows_the_chords(trained, capsys):
    run = str(trained / "run")
    notes = {}
    for progression in ("C G", "Am F"):
        out = trained / f"sample_{progression.replace(' ', '_')}"
        assert main(["sample", "--model", run, "--out", str(out), "--num-outputs", "3",
                     "--seed", "5", "--temperature", "0", "--chords", progression,
                     "--no-wav"]) == 0
        notes[progression] = [_melody_and_chords(out / f"sample_{i:02d}.mid") for i in range(3)]
        assert (out / "sample_00.png").is_file()
    capsys.readouterr()
    for progression, files in notes.items():
        first, second = (CHORDS[name] for name in progression.split())
        expected = sorted([(48 + first[0] + i, 0) for i in TRIAD_INTERVALS[first[1]]]
                          + [(48 + second[0] + i, 4) for i in TRIAD_INTERVALS[second[1]]])
        for melody, chords in files:
            assert chords == expected
            assert melody
    for (melody_a, _), (melody_b, _) in zip(notes["C G"], notes["Am F"]):
        assert melody_a != melody_b
    # Trained on arpeggios, the melody keeps mostly to each bar's chord.
    in_chord = total = 0
    for progression, files in notes.items():
        names = progression.split()
        for melody, _ in files:
            for pitch, beat in melody:
                root, quality = CHORDS[names[min(beat // 4, 1)]]
                in_chord += (pitch - root) % 12 in TRIAD_INTERVALS[quality]
                total += 1
    assert in_chord >= 0.75 * total


def test_a_longer_progression_is_decoded_window_by_window(trained, capsys):
    out = trained / "long"
    assert main(["sample", "--model", str(trained / "run"), "--out", str(out), "--num-outputs",
                 "1", "--seed", "1", "--chords", "C G Am F", "--no-wav"]) == 0
    melody, chords = _melody_and_chords(out / "sample_00.mid")
    assert sorted({beat for _, beat in chords}) == [0, 4, 8, 12]
    assert max(beat for _, beat in melody) >= 8
    capsys.readouterr()


def test_sampling_without_chords_uses_no_chord_and_says_so(trained, capsys):
    out = trained / "no_chords"
    assert main(["sample", "--model", str(trained / "run"), "--out", str(out), "--num-outputs",
                 "1", "--seed", "1", "--no-wav"]) == 0
    assert "no --chords given: decoding under no chord" in capsys.readouterr().out
    assert _melody_and_chords(out / "sample_00.mid")[1] == []


def test_interpolate_with_chords(trained, capsys):
    midi = trained / "midi"
    out = trained / "interp"
    assert main(["interpolate", "--model", str(trained / "run"), "--input",
                 str(midi / "piece_00.mid"), str(midi / "piece_01.mid"), "--num-outputs", "3",
                 "--chords", "F C", "--seed", "2", "--no-wav", "--out", str(out)]) == 0
    capsys.readouterr()
    for index in range(3):
        _, chords = _melody_and_chords(out / f"interp_{index:02d}.mid")
        assert chords == sorted([(53, 0), (57, 0), (60, 0), (48, 4), (52, 4), (55, 4)])
    assert (out / "interpolation.png").is_file()


@pytest.mark.parametrize("argv, words", [
    (["--chords", "C Hm7"], "not a chord name: 'Hm7'"),
    (["--chords", ""], "empty chord progression"),
])
def test_bad_chord_names_are_one_line_errors(trained, capsys, tmp_path, argv, words):
    code = main(["sample", "--model", str(trained / "run"), "--out", str(tmp_path / "x"),
                 "--no-wav", *argv])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and words in err, err


def test_chords_for_a_model_without_controls_is_a_one_line_error(capsys, tmp_path):
    code = main(["sample", "--model", "folk-mel_2bar", "--out", str(tmp_path / "x"),
                 "--chords", "C G", "--no-wav"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "chords need a chord-conditioned model (data.encoding melody_chords)" in err


def test_decoder_inputs_depend_on_the_chords_and_keras_round_trip(trained, tmp_path):
    from musicvae_tf.trained_model import TrainedModel

    model = TrainedModel.load(trained / "run")
    assert model.has_controls
    z = model.sample_latents(4, seed=3)
    logits = {}
    for progression in ("C G", "Dm Em"):
        controls = model._control_windows(model.chord_steps(progression), 4)[2]
        logits[progression] = np.asarray(model.model.sample(z, 0.0, 1, controls)[0])
    assert np.abs(logits["C G"] - logits["Dm Em"]).max() > 1e-3
    tokens = model.decode_tokens(z, 0.0, 1, model.chord_steps("C G"))
    assert tokens.shape == (4, 8, 2) and tokens[:, ::4, 1].tolist() == [[1, 8]] * 4
    model.model.save(tmp_path / "copy.keras")
    (tmp_path / "config.yaml").write_text((trained / "run" / "config.yaml").read_text())
    again = TrainedModel.load(tmp_path / "copy.keras")
    assert again.has_controls
    np.testing.assert_array_equal(again.decode_tokens(z, 0.0, 1, model.chord_steps("C G")),
                                  tokens)
    _, mu, _ = model.encode_tokens(tokens)
    np.testing.assert_allclose(again.encode_tokens(tokens)[1], mu, rtol=1e-6, atol=1e-6)


def test_encode_reconstructs_each_window_under_its_own_chords(trained, capsys):
    out = trained / "encoded"
    assert main(["encode", "--model", str(trained / "run"), "--input",
                 str(trained / "midi" / "piece_03.mid"), "--bar", "2", "--seed", "1",
                 "--temperature", "0", "--no-wav", "--out", str(out)]) == 0
    share = int(capsys.readouterr().out.split("reconstruction ")[1].split("%")[0])
    _, chords_in = _melody_and_chords(out / "input_000.mid")
    _, chords_out = _melody_and_chords(out / "recon_000.mid")
    assert chords_in and chords_out == chords_in
    assert 0 <= share <= 100
