"""Melody statistics (share in one scale, notes per bar, repeated bars) and the stats command."""

from __future__ import annotations

import json

import numpy as np

from data_pipelines.tokens import FIRST_PITCH_TOKEN, NOTE_OFF
from generation_support import trained_run_dir
from midi_factory import make_midi, scale_notes, write
from musicvae_tf.cli import main
from musicvae_tf.melody_stats import melody_statistics, relative_differences
from musicvae_tf.config import load_config
from training_support import write_prepared_data

STEPS_PER_BAR = 4


def note(pitch):
    return pitch - 21 + FIRST_PITCH_TOKEN


def test_statistics_of_known_windows():
    c_major_bar = [note(60), note(62), note(64), note(65)]
    chromatic_bar = [note(61), note(63), note(66), NOTE_OFF]
    tokens = np.array([
        c_major_bar + c_major_bar,          # second bar repeats the first, all in C major
        c_major_bar + chromatic_bar,        # C D E F C# D# F#
        [0, 0, 0, 0] + c_major_bar,         # a silent first bar
    ])
    stats = melody_statistics(tokens, STEPS_PER_BAR)
    assert stats["num_windows"] == 3
    assert stats["notes_per_bar"] == (8 + 7 + 4) / 6
    # bars after the first that sound: 3; one of them repeats an earlier bar
    assert stats["repeated_bar_share"] == 1 / 3
    assert stats["silent_bar_share"] == 1 / 6
    # C D E F + C# D# F#: the best diatonic set (D-flat major: Db Eb F Gb Ab Bb C) holds 5 of 7
    assert np.isclose(stats["in_scale_share"], (1 + 5 / 7 + 1) / 3)
    assert stats["pitch_range"] == (5 + 6 + 5) / 3
    differences = relative_differences(stats, dict(stats, notes_per_bar=stats["notes_per_bar"] * 2))
    assert differences["notes_per_bar"] == 1.0 and differences["pitch_range"] == 0.0


def test_stats_command_compares_data_midi_and_samples(tmp_path, capsys):
    run = trained_run_dir()
    config = load_config(str(run / "config.yaml"))
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, config.data.num_classes, size=(20, config.data.num_steps))
    write_prepared_data(tmp_path / "data", config, {"train": tokens})
    write(make_midi(scale_notes(bars=4)), tmp_path / "midi" / "a.mid")
    out = tmp_path / "stats.json"
    assert main(["stats", "--data", str(tmp_path / "data"), "--input", str(tmp_path / "midi"),
                 "--model", str(run), "--num-samples", "8", "--seed", "3",
                 "--out", str(out)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads(out.read_text())
    names = list(printed["statistics"])
    assert len(names) == 3 and names[0].startswith("data ")
    assert [printed["statistics"][n]["num_windows"] for n in names] == [20, 3, 8]
    assert set(printed["relative_differences"]) == set(names[1:])
    assert main(["stats"]) == 2
    assert "give at least one of" in capsys.readouterr().err
