"""A seeded fuzz run: a few hundred mutated copies of small MIDI files through prepare.

Mutations flip, overwrite, insert, delete and duplicate bytes, truncate the file, rewrite chunk
lengths and header fields and plant variable-length deltas of enormous size. prepare must finish
with every file accounted for, no traceback, no piece lost to an unexpected error, and the
unmutated originals must still give their windows.
"""

from __future__ import annotations

import json
import random
import struct
import time

from data_pipelines.prepare import prepare_dataset
from midi_factory import make_midi, scale_notes, write
from musicvae_tf.config import load_config

SEED = 2024
FILES = 300


def originals(folder) -> list[bytes]:
    """Three small, valid MIDI files: a melody, melody plus drums, a meter change."""
    melodies = [
        make_midi(scale_notes(first_pitch=55, bars=4)),
        make_midi(scale_notes(first_pitch=60, bars=4),
                  tracks=[([(36, i, i + 0.5) for i in range(16)], 0, True)]),
        make_midi(scale_notes(first_pitch=48, bars=6), meter_changes=[(8, 3, 4), (14, 4, 4)]),
    ]
    return [write(m, folder / f"original{i}.mid").read_bytes() for i, m in enumerate(melodies)]


def mutate(data: bytes, rng: random.Random) -> bytes:
    """One to three random mutations of ``data``."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        kind = rng.randrange(9)
        at = rng.randrange(len(out)) if out else 0
        if kind == 0:
            for _ in range(rng.randint(1, 5)):
                out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
        elif kind == 1:
            out[at] = rng.choice((0x00, 0x7F, 0x80, 0xFF, 0x8F))
        elif kind == 2:
            out[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
        elif kind == 3:
            del out[at:at + rng.randint(1, 32)]
        elif kind == 4:
            out[at:at] = out[at:at + rng.randint(1, 64)]
        elif kind == 5:
            del out[rng.randrange(len(out) + 1):]
        elif kind == 6:
            track = out.find(b"MTrk", rng.randrange(max(1, len(out))))
            if track >= 0:
                out[track + 4:track + 8] = struct.pack(">I", rng.choice(
                    (0, 1, rng.randrange(1 << 32), len(out))))
        elif kind == 7:
            field = rng.choice((8, 10, 12))  # format, track count, division
            out[field:field + 2] = struct.pack(">H", rng.randrange(1 << 16))
        else:
            out[at:at] = b"\x8f\xff\xff\x7f"  # a ~2**28-tick delta wherever it lands
        if not out:
            break
    return bytes(out)


def test_fuzzed_midi_files_are_all_accounted_for(tmp_path, capfd):
    rng = random.Random(SEED)
    inputs = tmp_path / "in"
    bases = originals(inputs)
    for index in range(FILES):
        (inputs / f"fuzz{index:03d}.mid").write_bytes(mutate(rng.choice(bases), rng))
    config = load_config("cat-mel_2bar_small", ["data.max_seconds_per_piece=10"])
    started = time.monotonic()
    report = prepare_dataset(config, [str(inputs)], None, tmp_path / "out", workers=1,
                             progress=False)
    elapsed = time.monotonic() - started
    captured = capfd.readouterr()
    assert "Traceback" not in captured.err + captured.out
    assert report["pieces_listed"] == FILES + len(bases)
    assert not [r for r in report["skipped"] if r.startswith("failed") or r == "timed out"]
    with_windows = {i for ids in json.loads((tmp_path / "out" / "pieces.json").read_text()).values()
                    for i in ids}
    assert {str(inputs / f"original{i}.mid") for i in range(len(bases))} <= with_windows
    assert report["skipped"]["unreadable file"] > 0  # the mutations did damage files
    assert elapsed < 60, elapsed
