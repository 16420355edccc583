"""Writing generated melodies: a MIDI file per melody, its piano-roll PNG and, when possible, a WAV.

File names carry a zero-padded index so they sort in generation order (``sample_00.mid`` ...).
Every file is written atomically. WAV rendering needs fluidsynth and a soundfont (see
:mod:`musicvae_tf.audio`); without them only MIDI and PNG are written.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Sequence

import numpy as np

from musicvae_tf.audio import Synth, find_synth, render_wav
from musicvae_tf.config import DataConfig
from musicvae_tf.plotting import plot_piano_roll


@dataclasses.dataclass
class OutputWriter:
    """Writes melodies into ``out_dir`` and remembers every file it wrote."""

    out_dir: Path
    data_config: DataConfig
    wav: bool = True
    qpm: float = 120.0  # tempo of every MIDI (and WAV) file written
    written: list[Path] = dataclasses.field(default_factory=list)

    def __post_init__(self):
        self.out_dir = Path(self.out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._synth: Synth | None = find_synth() if self.wav else None

    @property
    def renders_audio(self) -> bool:
        """True when WAV files will be written."""
        return self._synth is not None

    def write_melody(self, tokens: np.ndarray, stem: str, title: str | None = None,
                     plot: bool = True, highlight_bars=None) -> Path:
        """Write ``stem.mid`` (and ``stem.png``, ``stem.wav``); returns the MIDI path."""
        from data_pipelines.encodings import encoding_for

        midi_path = self.out_dir / f"{stem}.mid"
        encoding_for(self.data_config).write_midi(np.asarray(tokens), midi_path, qpm=self.qpm)
        self.written.append(midi_path)
        if plot:
            self.written.append(plot_piano_roll(tokens, self.out_dir / f"{stem}.png", self.data_config,
                                                title=title or stem, highlight_bars=highlight_bars))
        if self._synth is not None:
            self.written.append(render_wav(midi_path, self.out_dir / f"{stem}.wav", self._synth))
        return midi_path

    def write_melodies(self, tokens: Sequence[np.ndarray], prefix: str,
                       titles: Sequence[str] | None = None) -> list[Path]:
        """Write each melody as ``{prefix}_{index}`` with an index that sorts in order."""
        width = max(2, len(str(len(tokens) - 1)))
        return [self.write_melody(row, f"{prefix}_{index:0{width}d}", titles[index] if titles else None)
                for index, row in enumerate(tokens)]

    def add(self, path: Path) -> Path:
        """Record a file written by someone else (e.g. a grid image or an .npz)."""
        self.written.append(Path(path))
        return Path(path)

    def report(self) -> str:
        """Lines naming every file written, for the terminal."""
        counts: dict[str, int] = {}
        for path in self.written:
            counts[path.suffix] = counts.get(path.suffix, 0) + 1
        summary = ", ".join(f"{n} {suffix[1:]}" for suffix, n in sorted(counts.items()))
        lines = [f"wrote {len(self.written)} files to {self.out_dir} ({summary})"]
        lines += [f"  {path}" for path in self.written]
        if self.wav and self._synth is None:
            lines.append("  (no .wav: install fluidsynth and a General MIDI soundfont to get audio)")
        return "\n".join(lines)
