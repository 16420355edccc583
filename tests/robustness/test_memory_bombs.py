"""Tiny MIDI files that describe enormous pieces, through every path that reads a whole piece or
its windows: each is refused in well under a second with one line naming the limit, while the
process runs under an address-space limit (``memory_capped.py``) that the unchecked allocations
(4 GiB for the 38-byte file, 180 MB of tokens plus a 45-million-item list for the one at 24 ticks
per quarter, pretty_midi's 8 bytes per tick) would break.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from malformed_inputs import END, smf, varlen
from midi_factory import make_midi, scale_notes, write

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
HEADROOM_MIB = 1024
LIMIT = "over the limit of 100,000 steps (data.max_piece_steps)"
NOTE_ON, NOTE_OFF = b"\x00\x90\x3c\x40", b"\x80\x3c\x00"


def bombs(folder: Path) -> dict[str, tuple[Path, str]]:
    """name -> (file, words of its one-line error)."""
    files = {
        # one note of 2**28 ticks at 1 tick per quarter: 1.07e9 steps
        "tiny": (smf(NOTE_ON + varlen(2**28) + NOTE_OFF + END, division=1),
                 "is 1,073,741,824 steps (67,108,864 bars) long, " + LIMIT),
        # the same note at 24 ticks per quarter: 4.5e7 steps (an 89 MB answer before)
        "tiny24": (smf(NOTE_ON + varlen(2**28) + NOTE_OFF + END, division=24),
                   "is 44,739,248 steps (2,796,203 bars) long, " + LIMIT),
        # a delta time written as a 9-byte varlen (2**63 - 1 ticks)
        "varlen9": (smf(NOTE_ON + b"\xff" * 8 + b"\x7f" + NOTE_OFF + END, division=96),
                    "steps long, " + LIMIT),
        # an event only pretty_midi reads (0xF1), so its 8-bytes-per-tick table would be built
        "fallback": (smf(b"\x00\xf1\x10" + NOTE_ON + varlen(2**27) + NOTE_OFF + END, division=1),
                     "too long to read (134,217,728 ticks, at most 16,777,216"),
    }
    out = {}
    for name, (data, words) in files.items():
        path = folder / f"{name}.mid"
        path.write_bytes(data)
        out[name] = (path, words)
    return out


def cases(folder: Path) -> list[tuple[dict, int, str]]:
    """(case for memory_capped.py, expected exit code or status, words of the error)."""
    good = write(make_midi(scale_notes(bars=4)), folder / "good.mid")
    out = str(folder / "out")
    files = bombs(folder)
    found = []
    for path, words in files.values():
        bomb = str(path)
        found += [
            ({"cli": ["inpaint", "--model", "folk-inpaint", "--input", bomb, "--bars", "2-3",
                      "--out", out]}, 1, words),
            ({"post": "/api/piece", "data": {"model": "folk-inpaint"}, "files": {"file": bomb}},
             400, words),
        ]
    tiny, words = str(files["tiny"][0]), files["tiny"][1]
    found += [
        ({"post": "/api/inpaint", "data": {"model": "folk-inpaint", "bars": "2-3"},
          "files": {"file": tiny}}, 400, words),
        ({"post": "/api/interpolate", "data": {"model": "folk-mel_2bar"},
          "files": {"a": tiny, "b": str(good)}}, 400, words),
        ({"cli": ["encode", "--model", "folk-mel_2bar", "--input", tiny, "--out", out]}, 1, words),
        ({"cli": ["interpolate", "--model", "folk-mel_2bar", "--input", str(good), tiny,
                  "--out", out]}, 1, words),
        ({"cli": ["sample", "--model", "folk-mel_2bar", "--like", tiny, "--out", out]}, 1, words),
        ({"cli": ["stats", "--input", tiny]}, 1, words),
        ({"cli": ["prepare", "--config", "cat-mel_2bar_small", "--input", tiny, "--out",
                  str(folder / "data"), "--workers", "1", "--quiet"]}, 1, "too long 1"),
    ]
    return found


@pytest.fixture(scope="module")
def answers(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bombs")
    expected = cases(folder)
    (folder / "cases.json").write_text(json.dumps([case for case, _, _ in expected]))
    env = {**os.environ, "MALLOC_ARENA_MAX": "2",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    finished = subprocess.run([sys.executable, str(HERE / "memory_capped.py"), str(HEADROOM_MIB),
                               str(folder / "cases.json")], capture_output=True, text=True,
                              timeout=600, cwd=folder, env=env)
    assert finished.returncode == 0, finished.stderr[-3000:]
    results = [json.loads(line) for line in finished.stdout.splitlines() if line.startswith("{")]
    assert len(results) == len(expected), finished.stderr[-3000:]
    return list(zip(expected, results)), folder


def test_every_path_refuses_the_bombs_in_one_line_quickly(answers):
    pairs, folder = answers
    for (case, code, words), result in pairs:
        where = case.get("cli", case.get("post"))
        assert result["code"] == code, (where, result)
        error = result["error"].strip()
        if "post" in case:
            error = json.loads(error)["error"]
        assert len(error.splitlines()) == 1 and "Traceback" not in error, (where, error)
        assert words in error, (where, error)
        assert result["seconds"] < 5, (where, result)
    assert not (folder / "out").exists()
