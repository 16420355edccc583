"""Optional audio: render MIDI files to WAV with the ``fluidsynth`` program and a General MIDI soundfont.

Nothing here is required. When ``fluidsynth`` or a soundfont is missing, :func:`find_synth` returns
None and the commands write MIDI and PNG only. On Debian/Ubuntu:
``sudo apt-get install fluidsynth fluid-soundfont-gm``. Another soundfont can be named with the
``MUSICVAE_TF_SOUNDFONT`` environment variable.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
from pathlib import Path

from data_pipelines.errors import MusicVAEError
from data_pipelines.io_utils import atomic_path

SOUNDFONT_ENV = "MUSICVAE_TF_SOUNDFONT"
# Where Debian's fluid-soundfont-gm and other common packages put a General MIDI soundfont.
SOUNDFONT_LOCATIONS = (
    "/usr/share/sounds/sf2/default-GM.sf2",
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/soundfonts/default.sf2",
    "/usr/share/soundfonts/FluidR3_GM.sf2",
)


@dataclasses.dataclass(frozen=True)
class Synth:
    """A fluidsynth executable and the soundfont it plays."""

    executable: str
    soundfont: Path


def find_synth() -> Synth | None:
    """The installed fluidsynth and soundfont, or None when either is missing."""
    executable = shutil.which("fluidsynth")
    if executable is None:
        return None
    candidates = [os.environ[SOUNDFONT_ENV]] if os.environ.get(SOUNDFONT_ENV) else []
    for candidate in candidates + list(SOUNDFONT_LOCATIONS):
        if Path(candidate).is_file():
            return Synth(executable, Path(candidate))
    return None


def render_wav(midi_path: str | Path, wav_path: str | Path, synth: Synth, sample_rate: int = 44100,
               timeout_s: float = 120.0) -> Path:
    """Render ``midi_path`` to a WAV file at ``wav_path`` (written atomically)."""
    with atomic_path(wav_path) as tmp:
        command = [synth.executable, "-ni", "-q", "-T", "wav", "-F", str(tmp), "-r", str(sample_rate),
                   str(synth.soundfont), str(midi_path)]
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise MusicVAEError(f"fluidsynth failed on {midi_path}: {exc}") from None
        if result.returncode != 0 or tmp.stat().st_size == 0:
            reason = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
            raise MusicVAEError(f"fluidsynth failed on {midi_path}: {reason[0]}")
    return Path(wav_path)
