"""The studio over the shipped folk models, loaded once per test process, and MIDI files for it."""

from __future__ import annotations

import functools
from pathlib import Path

from midi_factory import make_midi, scale_notes, write


@functools.cache
def shipped_studio():
    """A :class:`Studio` with the three shipped folk models (the server's default)."""
    from musicvae_tf.studio.service import Studio

    return Studio.load()


def melody_file(path: Path, first_pitch: int = 60, bars: int = 16, meter=(4, 4)) -> Path:
    """A MIDI file of a rising and falling eighth-note line over ``bars`` bars."""
    notes = scale_notes(first_pitch=first_pitch, bars=bars, beats_per_bar=meter[0] * 4 // meter[1])
    notes = [(pitch if (index // 16) % 2 == 0 else pitch - 7, start, end)
             for index, (pitch, start, end) in enumerate(notes)]
    return write(make_midi(notes, meter=meter), path)
