"""The sample, interpolate, encode and attributes subcommands end to end on a tiny trained model."""

import json
import math

import mido
import numpy as np
import pretty_midi
import pytest

from generation_support import tiny_config, trained_run_dir, write_melody_midi, write_synthetic_corpus
from musicvae_tf.cli import main

SECONDS_PER_BAR = 2.0  # 4/4 at 120 qpm


def generate(argv):
    """Run a generation subcommand without WAV rendering (test_generation_audio covers it)."""
    return main([*argv, "--no-wav"])


def names(folder, suffix):
    return sorted(p.name for p in folder.iterdir() if p.suffix == suffix)


def assert_reads_back_as_two_bars(path):
    midi = pretty_midi.PrettyMIDI(str(path))
    notes = [n for inst in midi.instruments for n in inst.notes]
    assert notes and math.ceil(midi.get_end_time() / SECONDS_PER_BAR - 1e-6) <= 2
    assert [(ts.numerator, ts.denominator) for ts in midi.time_signature_changes] == [(4, 4)]
    song = mido.MidiFile(str(path))
    assert 0 < song.length <= 2 * SECONDS_PER_BAR + 0.01  # pretty_midi ends the track one tick later
    note_ons = [m for track in song.tracks for m in track if m.type == "note_on" and m.velocity > 0]
    assert len(note_ons) == len(notes)


@pytest.fixture(scope="module")
def run_dir():
    return str(trained_run_dir())


@pytest.fixture(scope="module")
def tunes(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tunes")
    return (str(write_melody_midi(folder / "a.mid", [60, 62, 64, 67, 69], bars=4)),
            str(write_melody_midi(folder / "b.mid", [72, 71, 69, 67], bars=2)))


def test_sample_writes_seeded_midi_and_png(run_dir, tmp_path, capsys):
    out = tmp_path / "samples"
    assert generate(["sample", "--model", run_dir, "--num-outputs", "3", "--seed", "7", "--out", str(out)]) == 0
    assert names(out, ".mid") == ["sample_00.mid", "sample_01.mid", "sample_02.mid"]
    assert names(out, ".png") == ["sample_00.png", "sample_01.png", "sample_02.png"]
    for path in sorted(out.glob("*.mid")):
        assert_reads_back_as_two_bars(path)
    assert "sample_02.mid" in capsys.readouterr().out
    again = tmp_path / "again"
    assert generate(["sample", "--model", run_dir, "--num-outputs", "3", "--seed", "7", "--out", str(again)]) == 0
    for name in names(out, ".mid"):
        assert (out / name).read_bytes() == (again / name).read_bytes()


def test_sample_like_an_input(run_dir, tunes, tmp_path):
    out = tmp_path / "like"
    assert generate(["sample", "--model", run_dir, "--like", tunes[0], "--bar", "2", "--similarity", "0.9",
                     "--num-outputs", "2", "--seed", "3", "--out", str(out)]) == 0
    assert names(out, ".mid") == ["sample_00.mid", "sample_01.mid"]
    for name in names(out, ".mid"):
        assert_reads_back_as_two_bars(out / name)


def test_interpolate_writes_every_step_and_a_grid(run_dir, tunes, tmp_path):
    out = tmp_path / "interp"
    assert generate(["interpolate", "--model", run_dir, "--input", *tunes, "--num-outputs", "4",
                 "--method", "lerp", "--bar", "2", "1", "--seed", "1", "--out", str(out)]) == 0
    assert names(out, ".mid") == ["input_a.mid", "input_b.mid", "interp_00.mid", "interp_01.mid",
                                  "interp_02.mid", "interp_03.mid"]
    assert "interpolation.png" in names(out, ".png")
    for name in names(out, ".mid"):
        assert_reads_back_as_two_bars(out / name)


def test_interpolate_four_corners_writes_a_grid_at_the_given_tempo(run_dir, tunes, tmp_path):
    out = tmp_path / "corners"
    assert generate(["interpolate", "--model", run_dir, "--input", tunes[0], tunes[1], tunes[1], tunes[0],
                     "--num-outputs", "3", "--qpm", "90", "--seed", "1", "--out", str(out)]) == 0
    grid = [name for name in names(out, ".mid") if name.startswith("grid_")]
    assert grid == [f"grid_r{r}_c{c}.mid" for r in (1, 2, 3) for c in (1, 2, 3)]
    assert names(out, ".png") == ["input_a.png", "input_b.png", "input_c.png", "input_d.png",
                                  "interpolation_grid.png"]
    tempo = pretty_midi.PrettyMIDI(str(out / "grid_r2_c2.mid")).get_tempo_changes()[1]
    assert list(tempo) == pytest.approx([90.0], rel=1e-4)  # MIDI stores microseconds per beat


def test_encode_writes_latents_and_reconstructions(run_dir, tunes, tmp_path):
    out = tmp_path / "enc"
    assert generate(["encode", "--model", run_dir, "--input", *tunes, "--seed", "0", "--out", str(out)]) == 0
    with np.load(out / "latents.npz") as latents:
        count = len(latents["mu"])
        assert latents["mu"].shape == latents["z"].shape == (count, 8)
        assert list(latents["bar_offset"][:3]) == [0, 1, 2]
        assert list(latents["bar"][:3]) == [1, 2, 3]
        assert set(latents["source"]) == set(tunes)
    assert len(names(out, ".mid")) == 2 * count and len(names(out, ".png")) == count


def test_attributes_and_interpolation_from_a_prepared_split(run_dir, tmp_path, capsys):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    corpus = write_synthetic_corpus(tmp_path / "corpus", tiny_config().data)
    data = tmp_path / "data"
    assert main(["prepare", "--config", "cat-mel_2bar_small", "--input", str(corpus), "--out", str(data),
                 "--workers", "1", "--quiet"]) == 0
    capsys.readouterr()
    assert generate(["attributes", "--model", str(run), "--data", str(data), "--check-samples", "16",
                 "--seed", "0", "--out", str(tmp_path / "attr")]) == 0
    printed = capsys.readouterr().out
    assert (run / "attributes.npz").is_file() and "note_density" in printed
    assert "note_density.png" in names(tmp_path / "attr", ".png")
    out = tmp_path / "shifted"
    assert generate(["sample", "--model", str(run), "--num-outputs", "2", "--seed", "1",
                 "--attribute", "note_density", "--amount", "1.5", "--out", str(out)]) == 0
    assert len(names(out, ".mid")) == 2
    test_ids = json.loads((data / "pieces.json").read_text())["test"]
    out = tmp_path / "held_out"
    assert generate(["interpolate", "--model", str(run), "--from-split", str(data), "--seed", "0",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"interpolated {test_ids[0]} -> {test_ids[1]}" in printed
    assert len(names(out, ".mid")) == 5 + 2
    out = tmp_path / "by_id"
    assert generate(["interpolate", "--model", str(run), "--input-piece", test_ids[1], test_ids[0],
                 "--num-outputs", "3", "--seed", "0", "--out", str(out)]) == 0
    assert len(names(out, ".mid")) == 3 + 2


@pytest.mark.parametrize("argv, message", [
    (["sample", "--model", "{tmp}/no_such_run", "--out", "{tmp}/o"], "model not found"),
    (["encode", "--model", "{run}", "--input", "{tmp}/missing.mid", "--out", "{tmp}/o"], "not found"),
    (["encode", "--model", "{run}", "--input", "{drums}", "--out", "{tmp}/o"], "no melody"),
    (["interpolate", "--model", "{run}", "--input", "{drums}", "{drums}", "--out", "{tmp}/o"], "no melody"),
    (["sample", "--model", "{run}", "--temperature", "-1", "--out", "{tmp}/o"], "temperature"),
    (["sample", "--model", "{run}", "--bar", "2", "--out", "{tmp}/o"], "--like"),
    (["interpolate", "--model", "{run}", "--input", "{drums}", "{drums}", "--bar", "1", "2", "3",
      "--out", "{tmp}/o"], "--bar takes one bar number for all inputs or one per input"),
    (["sample", "--model", "{run}", "--attribute", "note_density", "--out", "{tmp}/o"], "attribute vectors"),
])
def test_errors_are_one_line(run_dir, tmp_path, capsys, argv, message):
    drums = write_melody_midi(tmp_path / "drums.mid", [36, 38], bars=4, is_drum=True)
    argv = [a.format(tmp=tmp_path, run=run_dir, drums=drums) for a in argv]
    assert generate(argv) in (1, 2)
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and "Traceback" not in err
