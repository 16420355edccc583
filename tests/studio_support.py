"""The studio over the shipped folk models, loaded once per test process, and MIDI files for it."""

from __future__ import annotations

import contextlib
import functools
from pathlib import Path

from midi_factory import make_midi, scale_notes, write


@functools.cache
def shipped_studio():
    """A :class:`Studio` with the three shipped folk models (the server's default)."""
    from musicvae_tf.studio.service import Studio

    return Studio.load()


@contextlib.contextmanager
def served(app):
    """Run ``app`` under uvicorn on a free localhost port in a thread; yields the port."""
    import socket
    import threading
    import time

    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the studio server did not start"
        time.sleep(0.05)
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(10)


def melody_file(path: Path, first_pitch: int = 60, bars: int = 16, meter=(4, 4)) -> Path:
    """A MIDI file of a rising and falling eighth-note line over ``bars`` bars."""
    notes = scale_notes(first_pitch=first_pitch, bars=bars, beats_per_bar=meter[0] * 4 // meter[1])
    notes = [(pitch if (index // 16) % 2 == 0 else pitch - 7, start, end)
             for index, (pitch, start, end) in enumerate(notes)]
    return write(make_midi(notes, meter=meter), path)
