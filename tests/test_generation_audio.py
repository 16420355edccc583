"""Optional WAV rendering: found only with fluidsynth + a soundfont, command built right, failures are one line.

A stand-in ``fluidsynth`` shell script records its arguments, so these tests run without audio packages.
"""

import os
import stat

import numpy as np
import pytest

from musicvae_tf.audio import SOUNDFONT_ENV, find_synth, render_wav
from musicvae_tf.config import DataConfig
from data_pipelines.errors import MusicVAEError
from musicvae_tf.generation_output import OutputWriter

FAKE_SYNTH = """#!/bin/sh
echo "$@" > "$(dirname "$0")/args.txt"
out=""
while [ $# -gt 0 ]; do
  if [ "$1" = "-F" ]; then out="$2"; fi
  shift
done
{body}
"""


def install_fake(tmp_path, monkeypatch, body='printf "RIFFfake" > "$out"'):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "fluidsynth"
    script.write_text(FAKE_SYNTH.format(body=body))
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    soundfont = tmp_path / "gm.sf2"
    soundfont.write_bytes(b"sf2")
    monkeypatch.setenv("PATH", str(bin_dir) + os.pathsep + os.environ.get("PATH", ""))
    monkeypatch.setenv(SOUNDFONT_ENV, str(soundfont))
    return bin_dir, soundfont


def test_no_fluidsynth_means_no_synth(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_synth() is None


def test_render_wav_calls_fluidsynth_with_soundfont_and_midi(tmp_path, monkeypatch):
    bin_dir, soundfont = install_fake(tmp_path, monkeypatch)
    synth = find_synth()
    assert synth is not None and synth.soundfont == soundfont
    midi = tmp_path / "x.mid"
    midi.write_bytes(b"MThd")
    wav = render_wav(midi, tmp_path / "out" / "x.wav", synth)
    assert wav.read_bytes() == b"RIFFfake"
    args = (bin_dir / "args.txt").read_text().split()
    assert args[-2:] == [str(soundfont), str(midi)] and "-F" in args and "wav" in args


def test_fluidsynth_failure_is_one_clear_error(tmp_path, monkeypatch):
    install_fake(tmp_path, monkeypatch, body='echo "cannot open soundfont" >&2; exit 3')
    with pytest.raises(MusicVAEError, match="fluidsynth failed.*cannot open soundfont"):
        render_wav(tmp_path / "x.mid", tmp_path / "x.wav", find_synth())
    assert not (tmp_path / "x.wav").exists()


def test_output_writer_adds_wav_beside_midi_and_png(tmp_path, monkeypatch):
    install_fake(tmp_path, monkeypatch)
    data_config = DataConfig(num_bars=1)
    tokens = np.zeros(16, np.int32)
    tokens[::4] = 2 + 60 - data_config.min_pitch
    writer = OutputWriter(tmp_path / "out", data_config)
    writer.write_melodies([tokens, tokens], "sample")
    assert sorted(p.name for p in writer.written) == sorted(
        f"sample_0{i}.{ext}" for i in range(2) for ext in ("mid", "png", "wav"))
    assert "2 wav" in writer.report()
    quiet = OutputWriter(tmp_path / "quiet", data_config, wav=False)
    quiet.write_melody(tokens, "one")
    assert sorted(p.suffix for p in quiet.written) == [".mid", ".png"]
